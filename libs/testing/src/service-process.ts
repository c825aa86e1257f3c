import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { waitFor } from './wait-for';

/** The repository root: builds go to its `tmp/`, and services run with it as working directory. */
const ROOT = resolve(__dirname, '../../..');

/** A service compiled by {@link buildServiceForTest}. */
export interface ServiceBuild {
  /** The build directory (`<repo>/tmp/<app name>-build-XXXXXX`), keeping the source tree. */
  dir: string;
  /** The compiled `main.js` of the app (`<dir>/<app>/src/main.js`). */
  main: string;
  /** The compiled `main.js` of another project of the same build (`mainOf('apps/state-store')`). */
  mainOf(project: string): string;
  /** Deletes the build directory. Safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Compiles an app and the projects it uses the way `nx build` does (SWC with the repo's `.swcrc`, keeping
 * the tree and rewriting `@baton/*` aliases) into a fresh directory under the repo's `tmp/`, so a test
 * can run the real `main.js`. `app` and `projects` are project directories (`'apps/rule-engine'`,
 * `'libs/contracts'`); each one's `src` is compiled. Call `remove()` when done.
 */
export async function buildServiceForTest(app: string, projects: readonly string[]): Promise<ServiceBuild> {
  await mkdir(join(ROOT, 'tmp'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, 'tmp', `${basename(app)}-build-`));
  const sources = [app, ...projects].map((project) => `${project}/src`);
  try {
    await promisify(execFile)(
      join(ROOT, 'node_modules/.bin/swc'),
      [...sources, '-d', dir, '--config-file', '.swcrc', '-q'],
      { cwd: ROOT },
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const mainOf = (project: string): string => join(dir, project, 'src/main.js');
  return {
    dir,
    main: mainOf(app),
    mainOf,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Options of {@link startServiceProcess}. */
export interface ServiceProcessOptions {
  /** The `main.js` to run with this Node.js binary. */
  main: string;
  /** The whole environment of the process, besides `PATH` (nothing else is inherited). */
  env: Record<string, string>;
}

/** A service process started by {@link startServiceProcess}: its output so far and its exit. */
export interface ServiceProcess {
  /** The Node.js process (send it signals with `child.kill(...)`). */
  child: ChildProcess;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Throws `exited <code>: <stderr>` when the process has exited. */
  assertRunning(): void;
}

const started = new Set<ServiceProcess>();

/**
 * Runs a compiled service (`node <main>`) from the repo root with only `PATH` and `env` as environment,
 * collecting its stdout and stderr. Stop the ones still running with {@link stopServiceProcesses}
 * (typically in `afterAll`).
 */
export function startServiceProcess(opts: ServiceProcessOptions): ServiceProcess {
  const child = spawn(process.execPath, [opts.main], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...opts.env },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const proc: ServiceProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    assertRunning() {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${err}`);
    },
  };
  started.add(proc);
  void exited.then(() => started.delete(proc));
  return proc;
}

/** SIGKILLs every process of {@link startServiceProcess} that is still running, and awaits their exit. */
export async function stopServiceProcesses(): Promise<void> {
  const killed = [...started].filter((p) => p.child.exitCode === null && p.child.kill('SIGKILL'));
  await Promise.all(killed.map((p) => p.exited));
}

/** The body of `GET /health/ready` when a service is ready (200). */
export interface ServiceReadiness {
  details: Record<string, { status: string }>;
}

/** The body of `GET /health/ready` when a service is not ready (503). */
export interface ServiceUnreadiness {
  error: { code: string; message: string };
}

/**
 * Awaits `GET <baseUrl>/health/ready` answering 200 and returns its body. `what` names the wait in the
 * timeout error; when the process has exited, that error's last probe error gives its exit code and stderr.
 */
export function waitForServiceReady(
  proc: ServiceProcess,
  baseUrl: string,
  what: string,
): Promise<ServiceReadiness> {
  return waitFor(
    async () => {
      proc.assertRunning();
      const res = await fetch(`${baseUrl}/health/ready`);
      return res.status === 200 ? ((await res.json()) as ServiceReadiness) : undefined;
    },
    { what },
  );
}

/** Awaits `GET <baseUrl>/health/ready` answering 503 and returns its body. */
export function waitForServiceNotReady(baseUrl: string, what: string): Promise<ServiceUnreadiness> {
  return waitFor(
    async () => {
      const res = await fetch(`${baseUrl}/health/ready`);
      return res.status === 503 ? ((await res.json()) as ServiceUnreadiness) : undefined;
    },
    { what },
  );
}
