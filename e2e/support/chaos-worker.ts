/**
 * The chaos suite's worker. Its side effect is a ledger that honours idempotency keys, as a payment provider
 * does: the first run of a key creates `<CHAOS_LEDGER_DIR>/<key>` exclusively (the effect is applied), a later
 * run of the same key finds it and applies nothing. Every handler run is also logged as one JSON line to
 * CHAOS_RUNS_FILE (`applied: true|false`, the delivery count), so the suite can count redeliveries.
 *
 * Behaviour by action suffix and input: `reserve` fails its first attempt (retryable `ChaosFlaky`) when
 * `flaky`; `ship` fails for good (`ChaosRejected`) when `fail`; the `refund` compensation fails for good
 * (`ChaosRefundFailed`) when `refundFails`. Settings: NATS_URL, CHAOS_ACTIONS (comma-separated),
 * CHAOS_LEDGER_DIR, CHAOS_RUNS_FILE, CHAOS_DELAY_MS, CHAOS_SLOW (`action:ms,...`), CHAOS_CONCURRENCY,
 * CHAOS_ACK_WAIT_MS, CHAOS_TRACE_ACTION (its runs print `run-start <taskId>` / `run-end <taskId>`, so the suite
 * can pause the worker while one is in flight); BATON_WORKER_FAULTS is read by the SDK.
 */
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

import { NonRetryableError, Worker } from '@baton/worker';
import type { TaskContext } from '@baton/worker';

interface ChaosInput {
  flaky?: boolean;
  fail?: boolean;
  refundFails?: boolean;
}

async function main(): Promise<void> {
  const actions = (process.env['CHAOS_ACTIONS'] ?? '').split(',').filter(Boolean);
  const ledgerDir = required('CHAOS_LEDGER_DIR');
  const runsFile = required('CHAOS_RUNS_FILE');
  const delayMs = Number(process.env['CHAOS_DELAY_MS'] ?? '0');
  const traceAction = process.env['CHAOS_TRACE_ACTION'] ?? '';
  const slow = new Map(
    (process.env['CHAOS_SLOW'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const [action, ms] = pair.split(':');
        return [action ?? '', Number(ms ?? '0')] as const;
      }),
  );
  const worker = await Worker.connect({
    servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    name: `chaos-worker-${process.pid}`,
    concurrency: Number(process.env['CHAOS_CONCURRENCY'] ?? '16'),
    ackWaitMs: Number(process.env['CHAOS_ACK_WAIT_MS'] ?? '30000'),
    logger: {
      // The SDK's notes on the traced action's tasks (redelivered, answered from cache, cancelled...).
      debug: () => undefined,
      info: (obj, msg) => traceLog('info', obj, msg),
      warn: (obj, msg) => process.stderr.write(`warn ${msg ?? ''} ${safeJson(obj)}\n`),
      error: (obj, msg) => process.stderr.write(`error ${msg ?? ''} ${safeJson(obj)}\n`),
    },
  });
  for (const action of actions) {
    const suffix = action.slice(action.lastIndexOf('.') + 1);
    worker.handle(action, async (rawInput, ctx) => {
      const traced = action === traceAction;
      if (traced) process.stdout.write(`run-start ${ctx.taskId}\n`);
      try {
        return await run(rawInput, ctx);
      } finally {
        if (traced) process.stdout.write(`run-end ${ctx.taskId}\n`);
      }
    });
    const run = async (rawInput: unknown, ctx: TaskContext) => {
      const input = (rawInput ?? {}) as ChaosInput;
      const wait = slow.get(action) ?? delayMs;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (suffix === 'reserve' && input.flaky === true && ctx.attempt === 1) {
        const error = new Error(`${action} attempt 1 fails on purpose`);
        error.name = 'ChaosFlaky';
        throw error;
      }
      if (suffix === 'ship' && input.fail === true) {
        throw new NonRetryableError('ChaosRejected', `${action} rejected on purpose`);
      }
      if (suffix === 'refund' && input.refundFails === true) {
        throw new NonRetryableError('ChaosRefundFailed', `${action} fails on purpose`);
      }
      const record = {
        key: ctx.idempotencyKey,
        action,
        executionId: ctx.executionId,
        stepId: ctx.stepId,
        compensation: ctx.compensation,
        attempt: ctx.attempt,
        taskId: ctx.taskId,
        deliveryCount: ctx.deliveryCount,
        pid: process.pid,
      };
      const applied = applyOnce(ledgerDir, ctx.idempotencyKey, JSON.stringify(record));
      appendFileSync(runsFile, `${JSON.stringify({ ...record, applied })}\n`);
      return { action, key: ctx.idempotencyKey, applied };
    };
  }
  await worker.start();
  process.stdout.write(`worker ready ${actions.join(',')}\n`);
  const stop = () => {
    void worker.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Applies the effect of `key` unless it was applied before: true when this run applied it. */
function applyOnce(dir: string, key: string, record: string): boolean {
  let fd: number;
  try {
    fd = openSync(path.join(dir, encodeURIComponent(key)), 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, record);
  } finally {
    closeSync(fd);
  }
  return true;
}

function traceLog(level: string, obj: Record<string, unknown>, msg?: string): void {
  const trace = process.env['CHAOS_TRACE_ACTION'];
  if (
    trace &&
    (obj['action'] === trace || String(obj['taskId'] ?? '').includes(`.${trace.split('.').pop()}.`))
  ) {
    process.stdout.write(`${level} ${msg ?? ''} ${safeJson(obj)}\n`);
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? v.message : v));
  } catch {
    return String(value);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos worker failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
