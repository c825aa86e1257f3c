/** Named crash points of the worker SDK, for fault-injection tests. */
export const WorkerFaultPoint = {
  /** The handler returned (its side effect is done); the result is neither published nor acked yet. */
  AFTER_EFFECT: 'after-effect',
} as const;
export type WorkerFaultPoint = (typeof WorkerFaultPoint)[keyof typeof WorkerFaultPoint];

/** Where the task processor may be made to crash; a no-op unless switched on. */
export interface WorkerFaults {
  hit(point: WorkerFaultPoint): void;
}

/** The environment variable that switches fault points on: `BATON_WORKER_FAULTS=after-effect:0.05`. */
export const WORKER_FAULTS_ENV = 'BATON_WORKER_FAULTS';

const KNOWN_POINTS: ReadonlySet<string> = new Set(Object.values(WorkerFaultPoint));

/**
 * Crash points from a spec `point:probability[,point:probability]` (`after-effect:0.05`): at a configured
 * point the process exits at once (code 137, as a SIGKILL leaves it) with the given probability. An empty
 * spec, the default in production, switches every point off. Throws on a malformed spec, so a typo never
 * leaves a test silently without faults.
 *
 * @internal for Baton's own fault-injection tests.
 */
export class ProcessWorkerFaults implements WorkerFaults {
  private readonly probabilities = new Map<string, number>();

  constructor(
    spec: string,
    private readonly exit: (point: string) => void = (point) => {
      process.stderr.write(`fault injected: ${point}\n`);
      process.exit(137);
    },
    private readonly random: () => number = Math.random,
  ) {
    for (const part of spec.split(',').filter((p) => p.trim().length > 0)) {
      const [point, probabilityText, extra] = part.trim().split(':');
      const probability = Number(probabilityText);
      if (
        point === undefined ||
        !KNOWN_POINTS.has(point) ||
        extra !== undefined ||
        probabilityText === undefined ||
        probabilityText === '' ||
        !(probability >= 0 && probability <= 1)
      ) {
        throw new Error(
          `${WORKER_FAULTS_ENV}: '${part}' is not point:probability with point one of ${[...KNOWN_POINTS].join(', ')} and probability in 0..1`,
        );
      }
      this.probabilities.set(point, probability);
    }
  }

  /** The faults named by {@link WORKER_FAULTS_ENV} in this process's environment (none when unset). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): ProcessWorkerFaults {
    return new ProcessWorkerFaults(env[WORKER_FAULTS_ENV] ?? '');
  }

  get enabled(): boolean {
    return this.probabilities.size > 0;
  }

  hit(point: WorkerFaultPoint): void {
    const probability = this.probabilities.get(point);
    if (probability !== undefined && probability > 0 && this.random() < probability) this.exit(point);
  }
}
