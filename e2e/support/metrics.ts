/**
 * The value of one sample in a Prometheus text exposition: the line of metric `name` whose labels include
 * every given label (other labels, e.g. `service`, may be present). Undefined when no line matches.
 */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line.trim());
    if (!m || m[1] !== name) continue;
    const present: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      present[pair[1] as string] = pair[2] as string;
    }
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(m[3]);
  }
  return undefined;
}
