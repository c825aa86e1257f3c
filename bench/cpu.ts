import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. With
 * `reapedChildren`, the CPU of its children that have exited and been waited for is added (`cutime`,
 * `cstime`): the part of a process tree that no live process shows any more.
 */
export function cpuSeconds(
  pid: number | undefined,
  opts: { reapedChildren?: boolean } = {},
): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let ticks = Number(fields[11]) + Number(fields[12]);
    if (opts.reapedChildren) ticks += Number(fields[13]) + Number(fields[14]);
    return ticks / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/**
 * Summed CPU seconds of every process whose command name is `name` (e.g. all PostgreSQL processes),
 * including their exited and reaped children: a PostgreSQL backend that ends between two samples moves
 * into its postmaster's `cutime`, so the sum never goes down.
 */
export function cpuSecondsByName(name: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === name) total += cpuSeconds(Number(entry), { reapedChildren: true }) ?? 0;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

function ticksPerSecond(): number {
  return 100; // USER_HZ on Linux
}

/** CPU used by each named party between two samples. */
export function cpuDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) out[name] = value - (before[name] ?? 0);
  return out;
}

/** The processes of a running stack, as {@link cpuSample} reads them. */
export interface CpuSampled {
  services: ReadonlyMap<string, { proc?: { pid?: number } }>;
  workers: readonly { proc?: { pid?: number } }[];
  nats: { pid: number | undefined };
}

/**
 * CPU seconds used so far by every process of a run: each service, each worker, the nats-server, all
 * PostgreSQL processes together, and this process (`bench driver`).
 */
export function cpuSample(stack: CpuSampled): Record<string, number> {
  const sample: Record<string, number> = {};
  for (const [name, handle] of stack.services) sample[name] = cpuSeconds(handle.proc?.pid) ?? 0;
  stack.workers.forEach(
    (w, i) => (sample[`worker${stack.workers.length > 1 ? i + 1 : ''}`] = cpuSeconds(w.proc?.pid) ?? 0),
  );
  sample['nats-server'] = cpuSeconds(stack.nats.pid) ?? 0;
  sample['postgres'] = cpuSecondsByName('postgres');
  sample['bench driver'] = cpuSeconds(process.pid) ?? 0;
  return sample;
}
