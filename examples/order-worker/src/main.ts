/**
 * The example order worker: serves every action of the demo order workflow until SIGTERM or SIGINT, then
 * drains (running tasks finish and report) and exits.
 *
 * Environment: NATS_URL (comma-separated, default nats://127.0.0.1:4222), NATS_CREDS or
 * NATS_USER + NATS_PASSWORD, WORKER_CONCURRENCY (per action, default 8).
 */
import { Worker } from '@baton/worker';

import { ORDER_HANDLERS } from './order.handlers';

async function main(): Promise<void> {
  const env = process.env;
  const concurrency = env.WORKER_CONCURRENCY === undefined ? undefined : Number(env.WORKER_CONCURRENCY);
  const worker = await Worker.connect({
    servers: env.NATS_URL,
    name: env.WORKER_NAME,
    ...(env.NATS_CREDS ? { credsFile: env.NATS_CREDS } : {}),
    ...(env.NATS_USER ? { user: env.NATS_USER, password: env.NATS_PASSWORD ?? '' } : {}),
    ...(concurrency === undefined ? {} : { concurrency }),
  });
  for (const [action, handler] of Object.entries(ORDER_HANDLERS)) worker.handle(action, handler);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(
      `${JSON.stringify({ level: 30, time: Date.now(), msg: `${signal} received; draining` })}\n`,
    );
    worker.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`order-worker: close failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  await worker.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`order-worker: ${(err as Error).message}\n`);
  process.exit(1);
});
