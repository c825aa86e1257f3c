import { z } from 'zod';

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * Settings of per-action circuit breaking (extend the orchestrator's env schema with it). Threshold 0
 * turns circuit breaking off.
 */
export const circuitEnvShape = {
  /** Consecutive failed attempts of one action that open its circuit; 0 = never. */
  BATON_CIRCUIT_THRESHOLD: int(0, 10_000, 5),
  /** How long an open circuit holds new attempts before letting one probe through. */
  BATON_CIRCUIT_COOL_OFF_MS: int(100, 86_400_000, 30_000),
  /** While a probe is out, how long other held attempts wait before asking again. */
  BATON_CIRCUIT_HOLD_MS: int(10, 3_600_000, 1_000),
  /** A probe with no outcome after this long is given up and another attempt may probe. */
  BATON_CIRCUIT_PROBE_TIMEOUT_MS: int(100, 86_400_000, 60_000),
};

export const circuitEnvSchema = z.object(circuitEnvShape);
export type CircuitConfig = z.infer<typeof circuitEnvSchema>;

/** The circuit settings in `config` (the service's parsed configuration), defaults for the missing ones. */
export function circuitConfigFrom(config: unknown): CircuitConfig {
  const source = (typeof config === 'object' && config !== null ? config : {}) as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(circuitEnvShape)) if (source[key] !== undefined) picked[key] = source[key];
  return circuitEnvSchema.parse(picked);
}
