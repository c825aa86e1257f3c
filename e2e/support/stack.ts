import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import path from 'node:path';

import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';

import { createTestDatabase, getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';

/** The repository root (this file also runs compiled, from dist/e2e/support). */
export const ROOT = findRoot(__dirname);

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export const SERVICE_NAMES = [
  'orchestrator',
  'scheduler',
  'rule-engine',
  'state-store',
  'telemetry',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const USES_DATABASE: ReadonlySet<ServiceName> = new Set([
  'scheduler',
  'rule-engine',
  'state-store',
  'telemetry',
]);

/** One child process (a service or a worker) with its captured output. */
export class ChildHandle {
  proc?: ChildProcess;
  /** The last 400 lines of output (stdout and stderr). */
  readonly output: string[] = [];
  /** Lines output since the first start, including those no longer kept in {@link output}. */
  linesSeen = 0;
  private exited?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly environment: () => NodeJS.ProcessEnv,
    private readonly nodeArgs: readonly string[] = [],
    /** Scheduling niceness of the process (0 to 19, as systemd's `Nice=`); 0 leaves it alone. */
    private readonly nice = 0,
  ) {}

  start(): void {
    const proc = spawn(process.execPath, [...this.nodeArgs, this.script], {
      cwd: ROOT,
      env: this.environment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    if (this.nice !== 0 && proc.pid !== undefined) setPriority(proc.pid, this.nice);
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) {
          this.output.push(line);
          this.linesSeen++;
        }
      }
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `signal` and waits for the process to exit. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    this.proc?.kill(signal);
    await this.exited;
  }

  /** SIGSTOP: the process stops running (and answers nothing) until {@link resume}; returns at once. */
  pause(): void {
    if (this.running) this.proc?.kill('SIGSTOP');
  }

  /** SIGCONT: a {@link pause}d process runs again. */
  resume(): void {
    if (this.running) this.proc?.kill('SIGCONT');
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    const timer = setTimeout(() => this.proc?.kill('SIGKILL'), graceMs);
    await this.signal('SIGTERM');
    clearTimeout(timer);
  }

  /** The kept lines output after the {@link linesSeen} count `mark`. */
  linesSince(mark: number): string[] {
    const count = Math.min(this.linesSeen - mark, this.output.length);
    return count <= 0 ? [] : this.output.slice(this.output.length - count);
  }

  tail(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }
}

export interface ServiceHandle extends ChildHandle {
  port: number;
  url: string;
  /** Extra environment of the current start. */
  startEnv: NodeJS.ProcessEnv;
}

export interface WorkerOptions {
  actions: string[];
  /** Actions whose handler throws (type `E2eFailure`). */
  failActions?: string[];
  /** Actions left to be completed over HTTP with the task's token (recorded with the effect). */
  asyncActions?: string[];
  /** Milliseconds each handler waits before returning. */
  delayMs?: number;
  concurrency?: number;
  /** action -> n: its attempts up to n fail (type `E2eFlaky`). */
  flaky?: Record<string, number>;
  /** action -> ms: its first attempt takes that long. */
  hang?: Record<string, number>;
}

/**
 * A whole Baton stack for one test file: its own nats-server on a free port, its own database, the five
 * services as separate processes (from dist/) and any number of effect-recording workers.
 */
export class Stack {
  readonly services = new Map<ServiceName, ServiceHandle>();
  /** Further instances started by {@link startInstance}. */
  readonly instances: ServiceHandle[] = [];
  readonly workers: ChildHandle[] = [];
  readonly effectsFile: string;
  private readonly tmp: string;
  private nc?: NatsConnection;

  private constructor(
    readonly nats: NatsServerHandle,
    readonly db: TestDatabase,
    private readonly extraEnv: NodeJS.ProcessEnv,
    private readonly nodeArgs: readonly string[] = [],
    private readonly ownsNats = true,
    private readonly nice: Partial<Record<ServiceName, number>> = {},
  ) {
    this.tmp = mkdtempSync(path.join(tmpdir(), 'baton-e2e-'));
    this.effectsFile = path.join(this.tmp, 'effects.jsonl');
  }

  /**
   * @param opts.env extra environment of every service
   * @param opts.nodeArgs extra `node` arguments of every service (e.g. `--cpu-prof` for profiling)
   * @param opts.nats a nats-server the caller owns (and may restart); default: one started for the stack
   * @param opts.adminUrl the PostgreSQL where the stack's database is created; default the shared one
   * @param opts.nice scheduling niceness per service, as a deployment's `Nice=` (infra/systemd) would set
   */
  static async start(
    opts: {
      env?: NodeJS.ProcessEnv;
      services?: readonly ServiceName[];
      nodeArgs?: readonly string[];
      nats?: NatsServerHandle;
      adminUrl?: string;
      nice?: Partial<Record<ServiceName, number>>;
    } = {},
  ): Promise<Stack> {
    for (const name of SERVICE_NAMES) {
      const main = path.join(ROOT, 'dist', 'apps', name, 'src', 'main.js');
      if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
    }
    const nats = opts.nats ?? (await startNatsServer());
    const db = await createTestDatabase(opts.adminUrl === undefined ? {} : { adminUrl: opts.adminUrl });
    const stack = new Stack(
      nats,
      db,
      opts.env ?? {},
      opts.nodeArgs ?? [],
      opts.nats === undefined,
      opts.nice ?? {},
    );
    try {
      // The state-store first: it owns the history projection the tests read.
      const order = opts.services ?? SERVICE_NAMES;
      await Promise.all(order.map((name) => stack.startService(name)));
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  async startService(name: ServiceName, env: NodeJS.ProcessEnv = {}): Promise<ServiceHandle> {
    const existing = this.services.get(name);
    const handle = existing ?? this.serviceHandle(name, name, await getFreePort());
    // Settings for this start (a restart may change them, e.g. switch fault points off).
    handle.startEnv = env;
    this.services.set(name, handle);
    return this.launch(handle);
  }

  /**
   * Starts one more instance of `name` on its own port, beside the one `startService` started (e.g. a
   * second scheduler for a failover test); it shares the stack's NATS and database and stops with the stack.
   */
  async startInstance(name: ServiceName, env: NodeJS.ProcessEnv = {}): Promise<ServiceHandle> {
    const handle = this.serviceHandle(name, `${name}-${this.instances.length + 2}`, await getFreePort());
    handle.startEnv = env;
    this.instances.push(handle);
    return this.launch(handle);
  }

  private serviceHandle(name: ServiceName, label: string, port: number): ServiceHandle {
    const child = new ChildHandle(
      label,
      path.join(ROOT, 'dist', 'apps', name, 'src', 'main.js'),
      () => ({
        ...baseEnv(),
        NATS_URL: this.nats.url,
        ...(USES_DATABASE.has(name) ? { DATABASE_URL: this.db.url } : {}),
        PORT: String(port),
        LOG_LEVEL: 'warn',
        ...this.extraEnv,
        ...handle.startEnv,
      }),
      this.nodeArgs,
      this.nice[name] ?? 0,
    );
    const handle: ServiceHandle = Object.assign(child, {
      port,
      url: `http://127.0.0.1:${port}`,
      startEnv: {},
    });
    return handle;
  }

  private async launch(handle: ServiceHandle): Promise<ServiceHandle> {
    handle.start();
    const outcome = await waitFor(
      async () => {
        if (!handle.running) return 'exited';
        try {
          const res = await fetch(`${handle.url}/health/ready`);
          return res.status === 200 ? 'ready' : undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${handle.name} ready` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${handle.tail()}`);
    });
    if (outcome === 'exited') throw new Error(`${handle.name} exited at start:\n${handle.tail()}`);
    return handle;
  }

  service(name: ServiceName): ServiceHandle {
    const handle = this.services.get(name);
    if (!handle) throw new Error(`service ${name} not started`);
    return handle;
  }

  async killService(name: ServiceName): Promise<void> {
    await this.service(name).signal('SIGKILL');
  }

  async startWorker(opts: WorkerOptions): Promise<ChildHandle> {
    const worker = new ChildHandle(
      `worker-${this.workers.length + 1}`,
      path.join(ROOT, 'dist', 'e2e', 'support', 'effect-worker.js'),
      () => ({
        ...baseEnv(),
        NATS_URL: this.nats.url,
        E2E_ACTIONS: opts.actions.join(','),
        E2E_FAIL_ACTIONS: (opts.failActions ?? []).join(','),
        E2E_ASYNC_ACTIONS: (opts.asyncActions ?? []).join(','),
        E2E_DELAY_MS: String(opts.delayMs ?? 0),
        E2E_CONCURRENCY: String(opts.concurrency ?? 32),
        E2E_EFFECTS_FILE: this.effectsFile,
        E2E_FLAKY: Object.entries(opts.flaky ?? {})
          .map(([a, n]) => `${a}:${n}`)
          .join(','),
        E2E_HANG: Object.entries(opts.hang ?? {})
          .map(([a, n]) => `${a}:${n}`)
          .join(','),
      }),
    );
    worker.start();
    this.workers.push(worker);
    await waitFor(
      () => {
        if (!worker.running) throw new Error(`worker exited:\n${worker.tail()}`);
        return worker.output.some((line) => line.includes('worker ready'));
      },
      { timeoutMs: 30_000, what: 'worker ready' },
    );
    return worker;
  }

  /** Every effect the workers applied: one line per handler run. */
  effects(): { key: string; action: string; attempt: number; taskId: string; token?: string }[] {
    if (!existsSync(this.effectsFile)) return [];
    return readFileSync(this.effectsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as {
            key: string;
            action: string;
            attempt: number;
            taskId: string;
            token?: string;
          },
      );
  }

  async connection(): Promise<NatsConnection> {
    if (!this.nc) this.nc = (await connect({ servers: this.nats.url, name: 'e2e-test' })) as NatsConnection;
    return this.nc;
  }

  async js(): Promise<JetStreamClient> {
    return jetstream(await this.connection());
  }

  /** JSON over HTTP to a service; returns status and parsed body. */
  async http<T = unknown>(
    name: ServiceName,
    method: string,
    route: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.service(name).url}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': contentType },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    return { status: res.status, body: parsed as T };
  }

  async stop(): Promise<void> {
    await this.nc?.close().catch(() => undefined);
    await Promise.all(this.workers.map((w) => w.stop()));
    await Promise.all([...this.services.values(), ...this.instances].map((s) => s.stop()));
    if (this.ownsNats) await this.nats.cleanup();
    await this.db.drop().catch(() => undefined);
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

function baseEnv(): NodeJS.ProcessEnv {
  const { PATH, HOME, LANG, TZ } = process.env;
  return { PATH, HOME, LANG, TZ, NODE_ENV: 'production' };
}
