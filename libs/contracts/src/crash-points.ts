/**
 * Crash points for Baton's fault-injection tests, from a spec `point:probability[,point:probability]`
 * (`after-effect:0.05`): at a configured point the process exits at once (code 137, as a SIGKILL leaves
 * it) with the given probability. An empty spec, the default in production, switches every point off. A
 * malformed spec throws, naming `setting`, so a typo never leaves a test silently without faults.
 */
export class CrashPoints<Point extends string> {
  private readonly probabilities = new Map<string, number>();

  constructor(
    setting: string,
    known: readonly Point[],
    spec: string,
    private readonly exit: (point: string) => void = (point) => {
      process.stderr.write(`fault injected: ${point}\n`);
      process.exit(137);
    },
    private readonly random: () => number = Math.random,
  ) {
    const points: ReadonlySet<string> = new Set(known);
    for (const part of spec.split(',').filter((p) => p.trim().length > 0)) {
      const [point, probabilityText, extra] = part.trim().split(':');
      const probability = Number(probabilityText);
      if (
        point === undefined ||
        !points.has(point) ||
        extra !== undefined ||
        probabilityText === undefined ||
        probabilityText === '' ||
        !(probability >= 0 && probability <= 1)
      ) {
        throw new Error(
          `${setting}: '${part}' is not point:probability with point one of ${known.join(', ')} and probability in 0..1`,
        );
      }
      this.probabilities.set(point, probability);
    }
  }

  get enabled(): boolean {
    return this.probabilities.size > 0;
  }

  hit(point: Point): void {
    const probability = this.probabilities.get(point);
    if (probability !== undefined && probability > 0 && this.random() < probability) this.exit(point);
  }
}
