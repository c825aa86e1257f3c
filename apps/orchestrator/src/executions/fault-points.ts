import type { FaultPoints } from './execution-runner';

type Point = Parameters<FaultPoints['hit']>[0];

/**
 * Crash points for fault-injection tests (`BATON_FAULTS=after-state-write:0.05`): at a configured point the
 * process exits at once, with the given probability, exactly as a SIGKILL would leave it. Empty in production.
 */
export class ProcessFaultPoints implements FaultPoints {
  private readonly probabilities = new Map<string, number>();

  constructor(
    spec: string,
    private readonly exit: (point: string) => void = (point) => {
      process.stderr.write(`fault injected: ${point}\n`);
      process.exit(137);
    },
    private readonly random: () => number = Math.random,
  ) {
    for (const part of spec.split(',').filter(Boolean)) {
      const [point, probability] = part.split(':') as [string, string];
      this.probabilities.set(point, Number(probability));
    }
  }

  get enabled(): boolean {
    return this.probabilities.size > 0;
  }

  hit(point: Point): void {
    const probability = this.probabilities.get(point);
    if (probability !== undefined && this.random() < probability) this.exit(point);
  }
}
