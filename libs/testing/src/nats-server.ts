import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getFreePort } from './free-port';

/** The nats-server binary used by integration tests. */
export const NATS_SERVER_BINARY = '/usr/sbin/nats-server';

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Enable JetStream (`-js -sd <store dir>`); default true. */
  jetstream?: boolean;
}

/** A nats-server started by {@link startNatsServer}, owned by the test that started it. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>`. */
  url: string;
  /** Client port. */
  port: number;
  /** HTTP monitoring port (`/varz`, `/jsz`, `/healthz`). */
  monitorPort: number;
  /** JetStream store directory (kept across {@link NatsServerHandle.restart}). */
  storeDir: string;
  /** Process id of the running server, or undefined while it is stopped. */
  readonly pid: number | undefined;
  /** SIGTERM (graceful shutdown) and wait for the process to exit. No-op when stopped. */
  stop(): Promise<void>;
  /** SIGKILL (crash) and wait for the process to exit. No-op when stopped. */
  kill(): Promise<void>;
  /** Stop (gracefully) when running, then start again on the same port and store dir; resolves once ready. */
  restart(): Promise<void>;
  /** Stop and remove the store dir. Safe to call twice. */
  cleanup(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 5;
const LOG_LINES = 60;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test process that dies without cleanup must not leave servers behind.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * Kills the server when the test process disappears without cleaning up (a crashed or killed Jest worker):
 * a small shell loop polls the test process, then SIGKILLs the server if it is still that same server and
 * removes its store dir.
 */
function spawnWatchdog(serverPid: number, port: number, storeDir: string): ChildProcess {
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    `if tr '\\0' ' ' </proc/${serverPid}/cmdline 2>/dev/null | grep -qF -- 'nats-server -a 127.0.0.1 -p ${port} '; ` +
    `then kill -9 ${serverPid}; fi; rm -rf -- '${storeDir}'`;
  const watchdog = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  watchdog.unref();
  return watchdog;
}

class ServerProcess {
  readonly log: string[] = [];
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly watchdog: ChildProcess | undefined;

  constructor(
    readonly child: ChildProcess,
    port: number,
    storeDir: string,
  ) {
    running.add(child);
    this.watchdog = child.pid === undefined ? undefined : spawnWatchdog(child.pid, port, storeDir);
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        this.log.push(line);
        if (this.log.length > LOG_LINES) this.log.shift();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.watchdog?.kill('SIGKILL');
        this.exitCode = code ?? (signal === null ? null : -1);
        resolve(this.exitCode);
      });
      child.once('error', (err) => {
        running.delete(child);
        this.log.push(`spawn error: ${err.message}`);
        this.exitCode = -1;
        resolve(-1);
      });
    });
  }

  get hasExited(): boolean {
    return this.exitCode !== undefined;
  }

  async terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    if (this.hasExited) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function getJson(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Resolves once the server accepts clients (and has JetStream enabled when asked); rejects if it exits. */
async function awaitReady(
  proc: ServerProcess,
  port: number,
  monitorPort: number,
  jetstream: boolean,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.hasExited) {
      throw new Error(`nats-server exited during start:\n${proc.log.join('\n')}`);
    }
    if (await canConnect(port)) {
      const health = await getJson(`http://127.0.0.1:${monitorPort}/healthz`);
      if (health?.status === 'ok') {
        if (!jetstream) return;
        const jsz = await getJson(`http://127.0.0.1:${monitorPort}/jsz`);
        if (
          jsz !== undefined &&
          typeof jsz.config === 'object' &&
          jsz.config !== null &&
          jsz.disabled !== true
        )
          return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await proc.terminate('SIGKILL');
  throw new Error(
    `nats-server on port ${port} not ready after ${READY_TIMEOUT_MS} ms:\n${proc.log.join('\n')}`,
  );
}

function spawnServer(port: number, monitorPort: number, storeDir: string, jetstream: boolean): ServerProcess {
  installExitHook();
  const args = ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)];
  if (jetstream) args.push('-js', '-sd', storeDir);
  return new ServerProcess(
    spawn(NATS_SERVER_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] }),
    port,
    storeDir,
  );
}

function isAddressInUse(err: unknown): boolean {
  return /address already in use|bind: /i.test(String((err as Error)?.message ?? err));
}

/**
 * Starts a private nats-server on free ports (client and monitoring) with JetStream storing in a fresh
 * temporary directory, and resolves once it accepts connections and JetStream is enabled.
 * Call `cleanup()` when done (typically in `afterAll`).
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const jetstream = opts.jetstream ?? true;
  const storeDir = await mkdtemp(join(tmpdir(), 'baton-nats-'));
  let proc: ServerProcess | undefined;
  let port = 0;
  let monitorPort = 0;
  for (let attempt = 1; proc === undefined; attempt++) {
    port = await getFreePort();
    do monitorPort = await getFreePort();
    while (monitorPort === port);
    const candidate = spawnServer(port, monitorPort, storeDir, jetstream);
    try {
      await awaitReady(candidate, port, monitorPort, jetstream);
      proc = candidate;
    } catch (err) {
      // Another process took a port between the probe and the bind: try other ports.
      if (attempt >= START_ATTEMPTS || !isAddressInUse(err)) {
        await rm(storeDir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  let current: ServerProcess | undefined = proc;
  let cleanedUp = false;

  const handle: NatsServerHandle = {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    storeDir,
    get pid() {
      return current?.hasExited === false ? current.child.pid : undefined;
    },
    async stop() {
      await current?.terminate('SIGTERM');
    },
    async kill() {
      await current?.terminate('SIGKILL');
    },
    async restart() {
      if (cleanedUp) throw new Error('restart() after cleanup()');
      await current?.terminate('SIGTERM');
      let lastError: unknown;
      for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
        const next = spawnServer(port, monitorPort, storeDir, jetstream);
        try {
          await awaitReady(next, port, monitorPort, jetstream);
          current = next;
          return;
        } catch (err) {
          lastError = err;
          if (!isAddressInUse(err)) break;
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
      current = undefined;
      throw lastError;
    },
    async cleanup() {
      cleanedUp = true;
      await current?.terminate('SIGTERM');
      await rm(storeDir, { recursive: true, force: true });
    },
  };
  return handle;
}
