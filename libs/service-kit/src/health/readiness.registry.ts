import { Injectable } from '@nestjs/common';

/** A readiness probe: resolves when the component is usable, throws (with a reason) when not. */
export type ReadinessCheck = () => Promise<void>;

/**
 * The components `GET /health/ready` checks. The core module registers `nats` (connected) and `topology`
 * (streams and consumers present); services add their own, e.g. `database`.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** Registers a check under a unique component name (`database`); throws when the name is taken. */
  add(name: string, check: ReadinessCheck): void {
    if (!/^[a-z][a-z0-9_-]*$/i.test(name))
      throw new Error(`invalid readiness check name ${JSON.stringify(name)}`);
    if (this.checks.has(name))
      throw new Error(`readiness check ${JSON.stringify(name)} is already registered`);
    this.checks.set(name, check);
  }

  /** Removes a check; returns whether it was registered. */
  remove(name: string): boolean {
    return this.checks.delete(name);
  }

  /** The registered checks, in registration order. */
  entries(): [string, ReadinessCheck][] {
    return [...this.checks];
  }
}
