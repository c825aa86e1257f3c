import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** The state of one action's circuit. */
export const CircuitState = {
  /** Attempts flow; consecutive failures are counted. */
  CLOSED: 'closed',
  /** The cool-off is over: one probe attempt is let through, the others wait. */
  HALF_OPEN: 'half-open',
  /** Attempts wait until the cool-off ends. */
  OPEN: 'open',
} as const;
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

/** Value of the `baton_circuit_state` gauge per state. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Whether an attempt may be dispatched now (structurally the engine's `CircuitGate`). */
export interface CircuitGate {
  check(action: string, now: number): { allowed: true } | { allowed: false; retryAt: number };
  record(action: string, outcome: 'success' | 'failure', now: number): void;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a circuit; 0 disables circuit breaking. Default 5. */
  threshold?: number;
  /** How long an open circuit holds attempts. Default 30 s. */
  coolOffMs?: number;
  /** How long attempts held behind a probe wait before asking again. Default 1 s. */
  holdMs?: number;
  /** A probe without an outcome after this long no longer holds the others. Default 60 s. */
  probeTimeoutMs?: number;
  /** Registry for `baton_circuit_state` and `baton_circuit_opens_total` (the service's MetricsService registry). */
  registry?: Registry;
}

/** One action's circuit, as the API shows it. */
export interface CircuitView {
  action: string;
  state: CircuitState;
  /** Failures in a row (closed), or of the failure streak that opened it. */
  consecutiveFailures: number;
  /** Times this circuit opened since the process started. */
  opens: number;
  /** ISO-8601: when it last opened. */
  openedAt?: string;
  /** ISO-8601, open: when a probe may go. */
  probeAt?: string;
  /** ISO-8601, half-open: when the probe in flight was let through. */
  probeSentAt?: string;
}

interface Circuit {
  state: CircuitState;
  failures: number;
  opens: number;
  openedAt?: number;
  probeSentAt?: number;
}

/**
 * Per-action circuit breaking (ADR 0021): a circuit opens after `threshold` consecutive failed attempts of
 * its action; while open, `check` holds new attempts (they wait until `retryAt`, they do not fail); after
 * `coolOffMs` it is half-open and lets exactly one probe through, holding the others for `holdMs` at a
 * time; the probe's success closes it, its failure re-opens it for another cool-off. Every orchestrator
 * instance keeps its own breaker, fed by the results it applies. The clock is passed in (`now`, epoch ms).
 */
export class CircuitBreaker implements CircuitGate {
  private readonly circuits = new Map<string, Circuit>();
  private readonly threshold: number;
  private readonly coolOffMs: number;
  private readonly holdMs: number;
  private readonly probeTimeoutMs: number;
  private readonly stateGauge?: Gauge<'action'>;
  private readonly opensTotal?: Counter<'action'>;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = Math.max(0, Math.floor(options.threshold ?? 5));
    this.coolOffMs = Math.max(1, options.coolOffMs ?? 30_000);
    this.holdMs = Math.max(1, options.holdMs ?? 1_000);
    this.probeTimeoutMs = Math.max(1, options.probeTimeoutMs ?? 60_000);
    if (options.registry !== undefined) {
      this.stateGauge = new Gauge({
        name: 'baton_circuit_state',
        help: 'Circuit of each action: 0 closed, 1 half-open, 2 open',
        labelNames: ['action'],
        registers: [options.registry],
      });
      this.opensTotal = new Counter({
        name: 'baton_circuit_opens_total',
        help: 'Times the circuit of each action opened',
        labelNames: ['action'],
        registers: [options.registry],
      });
    }
  }

  /** Whether circuit breaking is on (threshold above 0). */
  get enabled(): boolean {
    return this.threshold > 0;
  }

  check(action: string, now: number): { allowed: true } | { allowed: false; retryAt: number } {
    const circuit = this.circuits.get(action);
    if (circuit === undefined || circuit.state === CircuitState.CLOSED) return { allowed: true };
    if (circuit.state === CircuitState.OPEN) {
      const probeAt = (circuit.openedAt ?? now) + this.coolOffMs;
      if (now < probeAt) return { allowed: false, retryAt: probeAt };
      this.set(action, circuit, CircuitState.HALF_OPEN);
      circuit.probeSentAt = now;
      return { allowed: true };
    }
    // Half-open: one probe at a time; a probe lost without an outcome stops holding after probeTimeoutMs.
    if (circuit.probeSentAt !== undefined && now < circuit.probeSentAt + this.probeTimeoutMs) {
      return { allowed: false, retryAt: now + this.holdMs };
    }
    circuit.probeSentAt = now;
    return { allowed: true };
  }

  record(action: string, outcome: 'success' | 'failure', now: number): void {
    if (!this.enabled) return;
    let circuit = this.circuits.get(action);
    if (outcome === 'success') {
      if (circuit === undefined) return;
      if (circuit.state === CircuitState.CLOSED && circuit.failures === 0) return;
      // A late success while open (an attempt dispatched before it opened) proves nothing about now.
      if (circuit.state === CircuitState.OPEN) return;
      circuit.failures = 0;
      circuit.probeSentAt = undefined;
      this.set(action, circuit, CircuitState.CLOSED);
      return;
    }
    if (circuit === undefined) {
      circuit = { state: CircuitState.CLOSED, failures: 0, opens: 0 };
      this.circuits.set(action, circuit);
      this.stateGauge?.set({ action }, CIRCUIT_STATE_VALUE.closed);
    }
    if (circuit.state === CircuitState.OPEN) return;
    circuit.failures++;
    if (circuit.state === CircuitState.HALF_OPEN || circuit.failures >= this.threshold)
      this.open(action, circuit, now);
  }

  /** Every circuit this instance knows, by action. */
  states(): CircuitView[] {
    return [...this.circuits.keys()].sort().map((action) => this.state(action));
  }

  /** One action's circuit (closed when this instance has seen no failure of it). */
  state(action: string): CircuitView {
    const c = this.circuits.get(action);
    if (c === undefined) return { action, state: CircuitState.CLOSED, consecutiveFailures: 0, opens: 0 };
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    const openedAt = iso(c.openedAt);
    const probeAt = c.state === CircuitState.OPEN ? iso((c.openedAt ?? 0) + this.coolOffMs) : undefined;
    const probeSentAt = c.state === CircuitState.HALF_OPEN ? iso(c.probeSentAt) : undefined;
    return {
      action,
      state: c.state,
      consecutiveFailures: c.failures,
      opens: c.opens,
      ...(openedAt === undefined ? {} : { openedAt }),
      ...(probeAt === undefined ? {} : { probeAt }),
      ...(probeSentAt === undefined ? {} : { probeSentAt }),
    };
  }

  private open(action: string, circuit: Circuit, now: number): void {
    circuit.openedAt = now;
    circuit.probeSentAt = undefined;
    circuit.opens++;
    this.opensTotal?.inc({ action });
    this.set(action, circuit, CircuitState.OPEN);
  }

  private set(action: string, circuit: Circuit, state: CircuitState): void {
    circuit.state = state;
    this.stateGauge?.set({ action }, CIRCUIT_STATE_VALUE[state]);
  }
}
