/**
 * `node dist/bench/timers-bench.js [--json] [--count N] [--spread-ms N]` (after `npm run build`): the
 * scheduler's durable timers under load. Starts its own nats-server, database and the scheduler (from dist/),
 * creates 10,000 timers (default) due over ~10 s, all pending at once, and measures:
 * - timers created per second (`POST /v1/timers`, 64 requests in flight);
 * - fire lag: arrival of the fired message at a subscriber minus the timer's due time, p50/p95/p99/max.
 */
import { Stack } from '../e2e/support/stack';
import { percentiles } from './stats';

interface TimerFigures {
  timers: number;
  spreadMs: number;
  createdPerSec: number;
  /** Whether every timer was created before the first one was due (all pending at once). */
  allPendingAtOnce: boolean;
  lag: { p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number };
}

const SUBJECT_PREFIX = 'events.bench.timers';
const IN_FLIGHT = 64;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const count = arg('--count', 10_000);
  const spreadMs = arg('--spread-ms', 10_000);
  const log = (line: string) => {
    if (!json) console.log(line);
  };
  log('starting nats-server, PostgreSQL database and the scheduler ...');
  const stack = await Stack.start({ services: ['scheduler'] });
  try {
    const nc = await stack.connection();
    const lags: number[] = [];
    const dueOffsets: number[] = [];
    const seen = new Set<string>();
    let resolveAll: () => void = () => undefined;
    const allArrived = new Promise<void>((resolve) => (resolveAll = resolve));
    const sub = nc.subscribe(`${SUBJECT_PREFIX}.>`, {
      callback: (err, msg) => {
        if (err) return;
        const arrived = Date.now();
        const { id, due } = msg.json<{ id: string; due: number }>();
        if (seen.has(id)) return;
        seen.add(id);
        lags.push(arrived - due);
        dueOffsets.push(due);
        if (seen.size === count) resolveAll();
      },
    });
    await nc.flush();

    const url = `${stack.service('scheduler').url}/v1/timers`;
    // Due times start after creation is expected to end, so every timer is pending at once.
    const createStart = Date.now();
    const firstDue = createStart + 20_000;
    let next = 0;
    const createOne = async (i: number) => {
      const due = firstDue + Math.floor((i * spreadMs) / count);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: `bench-${i}`,
          at: new Date(due).toISOString(),
          subject: `${SUBJECT_PREFIX}.t${i % 16}`,
          payload: { id: `bench-${i}`, due },
        }),
      });
      if (res.status !== 201) throw new Error(`create ${i}: HTTP ${res.status} ${await res.text()}`);
    };
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < count) await createOne(next++);
      }),
    );
    const createEnd = Date.now();
    const createdPerSec = count / ((createEnd - createStart) / 1000);
    log(
      `created ${count} timers in ${createEnd - createStart} ms (${createdPerSec.toFixed(0)}/s); waiting for them to fire`,
    );

    const timeout = setTimeout(() => resolveAll(), firstDue - Date.now() + spreadMs + 60_000);
    await allArrived;
    clearTimeout(timeout);
    sub.unsubscribe();
    if (seen.size < count) throw new Error(`only ${seen.size} of ${count} timers fired`);

    const p = percentiles(lags);
    const figures: TimerFigures = {
      timers: count,
      spreadMs,
      createdPerSec: Math.round(createdPerSec),
      allPendingAtOnce: createEnd <= firstDue,
      lag: { ...p, maxMs: Math.max(...lags) },
    };
    if (json) {
      console.log(JSON.stringify(figures));
    } else {
      log(
        `fire lag over ${count} timers due within ${spreadMs} ms (all pending at once: ${figures.allPendingAtOnce}):`,
      );
      log(`  p50 ${p.p50Ms} ms   p95 ${p.p95Ms} ms   p99 ${p.p99Ms} ms   max ${figures.lag.maxMs} ms`);
      // Where the tail comes from: p99 per second of the spread.
      const bySecond = new Map<number, number[]>();
      lags.forEach((lag, i) => {
        const second = Math.floor((dueOffsets[i] - firstDue) / 1000);
        bySecond.set(second, [...(bySecond.get(second) ?? []), lag]);
      });
      log(
        `  p99 per second: ${[...bySecond.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([sec, l]) => `${sec}s:${percentiles(l).p99Ms}`)
          .join(' ')}`,
      );
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
