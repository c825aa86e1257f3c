/**
 * A worker for the e2e suites: records every effect it applies (one JSON line per handler run, keyed by
 * the task's idempotency key) so tests can count effects per key, and returns a small output.
 * Configured by environment: E2E_ACTIONS, E2E_FAIL_ACTIONS, E2E_ASYNC_ACTIONS (left for a person: the task's
 * token is recorded and the task is completed over HTTP), E2E_DELAY_MS, E2E_CONCURRENCY, E2E_EFFECTS_FILE,
 * E2E_FLAKY (`action:n,...`: attempts up to n fail with `E2eFlaky`), E2E_HANG (`action:ms,...`: the first
 * attempt takes that long, so a step timeout ends it first).
 */
import { appendFileSync } from 'node:fs';

import { CompleteAsyncError, Worker } from '@baton/worker';

async function main(): Promise<void> {
  const actions = (process.env['E2E_ACTIONS'] ?? '').split(',').filter(Boolean);
  const failing = new Set((process.env['E2E_FAIL_ACTIONS'] ?? '').split(',').filter(Boolean));
  const asynchronous = new Set((process.env['E2E_ASYNC_ACTIONS'] ?? '').split(',').filter(Boolean));
  const delayMs = Number(process.env['E2E_DELAY_MS'] ?? '0');
  const concurrency = Number(process.env['E2E_CONCURRENCY'] ?? '32');
  const effectsFile = process.env['E2E_EFFECTS_FILE'] ?? '';
  const flaky = pairs(process.env['E2E_FLAKY']);
  const hang = pairs(process.env['E2E_HANG']);
  const worker = await Worker.connect({
    servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    name: 'e2e-worker',
    concurrency,
  });
  for (const action of new Set([...actions, ...failing, ...asynchronous, ...flaky.keys(), ...hang.keys()])) {
    worker.handle(action, async (input, ctx) => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const hangMs = hang.get(action);
      if (hangMs !== undefined && ctx.attempt === 1) {
        await new Promise((resolve) => setTimeout(resolve, hangMs));
      }
      if ((flaky.get(action) ?? 0) >= ctx.attempt) {
        const error = new Error(`${action} attempt ${ctx.attempt} failed on purpose`);
        error.name = 'E2eFlaky';
        throw error;
      }
      if (failing.has(action)) {
        const error = new Error(`${action} failed on purpose`);
        error.name = 'E2eFailure';
        throw error;
      }
      if (effectsFile) {
        appendFileSync(
          effectsFile,
          `${JSON.stringify({ key: ctx.idempotencyKey, action, attempt: ctx.attempt, taskId: ctx.taskId, pid: process.pid, ...(asynchronous.has(action) ? { token: ctx.token } : {}) })}\n`,
        );
      }
      if (asynchronous.has(action)) throw new CompleteAsyncError();
      const value = (input as { value?: unknown } | null)?.value;
      return { action, key: ctx.idempotencyKey, ...(value !== undefined ? { value } : {}) };
    });
  }
  await worker.start();
  process.stdout.write(`worker ready ${actions.join(',')}\n`);
  const stop = () => {
    void worker.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** `a:1,b:2` as a map. */
function pairs(text: string | undefined): Map<string, number> {
  const map = new Map<string, number>();
  for (const part of (text ?? '').split(',').filter(Boolean)) {
    const [name, n] = part.split(':');
    if (name) map.set(name, Number(n ?? '1'));
  }
  return map;
}

main().catch((err: unknown) => {
  process.stderr.write(`effect worker failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
