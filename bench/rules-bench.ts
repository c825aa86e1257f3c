/**
 * `npm run build && node dist/bench/rules-bench.js [--quick]`: decisions per second for one category of
 * 20 rules, in-process (a compiled json-rules-engine rule set, as the rule-engine caches it) and over NATS
 * request-reply (`baton.api.rule-engine.rules.evaluate`) against the real rule-engine process, started
 * from dist/ on its own nats-server and database.
 */
import type { StoredRule } from '@baton/persistence';

import { CompiledRuleSet } from '../apps/rule-engine/src/rules/rule-set';
import { Stack } from '../e2e/support/stack';
import { percentiles } from './stats';

const CATEGORY = 'bench';
const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'ES', 'IT', 'NL', 'BE', 'PL', 'SE'];

/** Twenty rules of three conditions each, mixing built-in and Baton operators, distinct priorities. */
function benchRules(): Omit<StoredRule, 'version' | 'createdAt' | 'updatedAt'>[] {
  return Array.from({ length: 20 }, (_, i) => ({
    id: `bench-${i}`,
    name: `bench rule ${i}`,
    description: '',
    category: CATEGORY,
    condition: {
      all: [
        { fact: 'order', path: '$.total', operator: 'between', value: [i * 50, i * 50 + 400] },
        { fact: 'order', path: '$.country', operator: 'in', value: COUNTRIES.slice(i % 5, (i % 5) + 4) },
        {
          any: [
            {
              fact: 'customer',
              path: '$.email',
              operator: 'matches',
              value: `^[a-z]+${i % 10}@example\\.com$`,
            },
            { fact: 'customer', path: '$.since', operator: 'before', value: `20${10 + (i % 10)}-01-01` },
          ],
        },
      ],
    },
    actions: [{ type: i % 3 === 0 ? 'review' : i % 3 === 1 ? 'approve' : 'decline' }],
    priority: 100 - i,
    enabled: true,
  }));
}

/** A pool of varied facts. */
function factsPool(size: number): Record<string, unknown>[] {
  return Array.from({ length: size }, (_, i) => ({
    order: { total: (i * 37) % 1400, country: COUNTRIES[i % COUNTRIES.length] },
    customer: { email: `user${i % 10}@example.com`, since: `20${10 + (i % 15)}-06-01` },
  }));
}

interface Row {
  mode: string;
  inFlight: number;
  evaluations: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
}

async function measure(
  mode: string,
  inFlight: number,
  durationMs: number,
  evaluate: (facts: Record<string, unknown>) => Promise<unknown>,
): Promise<Row> {
  const pool = factsPool(256);
  const latencies: number[] = [];
  let next = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        const facts = pool[next++ % pool.length];
        const t0 = performance.now();
        await evaluate(facts);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const { p50Ms, p99Ms } = percentiles(latencies);
  return { mode, inFlight, evaluations: latencies.length, perSec: latencies.length / seconds, p50Ms, p99Ms };
}

function table(rows: Row[]): string {
  const header = ['mode', 'in flight', 'evaluations', 'evals/s', 'p50 ms', 'p99 ms'];
  const body = rows.map((r) => [
    r.mode,
    String(r.inFlight),
    String(r.evaluations),
    r.perSec.toFixed(0),
    r.p50Ms.toFixed(3),
    r.p99Ms.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const durationMs = quick ? 1_000 : 3_000;
  const rules = benchRules();
  const rows: Row[] = [];

  const compiled = new CompiledRuleSet(
    rules.map((r) => ({
      ...r,
      version: 1,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    })),
  );
  const sample = await compiled.evaluate(factsPool(1)[0]);
  if (sample.rules.length !== 20) throw new Error('expected 20 rules to be evaluated');
  await measure('warm-up', 1, 500, (facts) => compiled.evaluate(facts));
  rows.push(await measure('in-process', 1, durationMs, (facts) => compiled.evaluate(facts)));
  rows.push(await measure('in-process', 32, durationMs, (facts) => compiled.evaluate(facts)));

  const stack = await Stack.start({ services: ['rule-engine'] });
  try {
    for (const rule of rules) {
      const res = await stack.http('rule-engine', 'POST', '/v1/rules', rule);
      if (res.status !== 201)
        throw new Error(`creating ${rule.id}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    const nc = await stack.connection();
    const subject = 'baton.api.rule-engine.rules.evaluate';
    const overNats = async (facts: Record<string, unknown>) => {
      const msg = await nc.request(subject, JSON.stringify({ category: CATEGORY, facts }), {
        timeout: 10_000,
      });
      if (msg.headers?.get('Nats-Service-Error-Code')) throw new Error(msg.string());
      return msg.json<{ outcome: string }>();
    };
    await measure('warm-up', 1, 500, overNats);
    rows.push(await measure('NATS request-reply', 1, durationMs, overNats));
    rows.push(await measure('NATS request-reply', 32, durationMs, overNats));
  } finally {
    await stack.stop();
  }
  process.stdout.write(
    `rule-engine: one category of 20 rules (3 conditions each), ${durationMs} ms per row\n`,
  );
  process.stdout.write(`${table(rows)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
