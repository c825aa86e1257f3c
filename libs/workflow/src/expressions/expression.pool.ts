import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { BatonError, ErrorCode } from '@baton/contracts';

import { EVALUATOR_CHILD_SOURCE } from './expression.child-source';

/** Limits of the evaluator processes. @internal */
export interface EvaluatorPoolOptions {
  poolSize: number;
  /** JSONata's own time guard inside the process; the process is killed `killGraceMs` later. */
  timeoutMs: number;
  killGraceMs: number;
  maxMemoryMb: number;
  maxDepth: number;
  maxResultBytes: number;
  cacheSize: number;
  /** How long a new process may take to say it is ready. */
  startTimeoutMs: number;
}

/** What became of one job. `json` is the JSON text of the result (`undefined` for no result). @internal */
export type PoolOutcome =
  | { ok: true; json: string | undefined }
  | {
      ok: false;
      reason: 'timeout' | 'memory' | 'error';
      kind: string;
      message: string;
      code?: string;
      position?: number;
    };

interface Job {
  id: number;
  body: string;
  bindings: string;
  resolve: (outcome: PoolOutcome) => void;
  reject: (err: BatonError) => void;
}

interface Slot {
  child: ChildProcess | undefined;
  state: 'empty' | 'starting' | 'idle' | 'busy';
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  /** When the running job was sent, and the child's CPU time then (ms; undefined where unreadable). */
  sentAt?: number;
  cpuAtSend?: number | undefined;
}

/** A job is killed after this many times its time limit on the wall clock, however starved the machine. */
const WALL_CAP_FACTOR = 20;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU time (user + system, ms) a process has used, from /proc/<pid>/stat; undefined where unreadable.
 * The time limit is on CPU time, so a machine too busy to run the evaluator does not fail an expression that
 * is not looping.
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return ((utime + stime) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

interface ChildReply {
  id?: unknown;
  ready?: unknown;
  ok?: unknown;
  json?: unknown;
  kind?: unknown;
  message?: unknown;
  code?: unknown;
  position?: unknown;
}

/**
 * A fixed number of isolated evaluator processes (`node -e`, `--max-old-space-size`), started on demand.
 * One job runs per process at a time; further jobs wait in FIFO order. A job that outlives its deadline gets
 * its process killed (SIGKILL) and the slot is refilled on demand; a process that dies (heap exhausted: the
 * engine aborts it) fails its job with `memory`. The calling process is never affected: unlike a
 * worker thread, a child process that runs out of heap cannot take its parent down.
 * @internal
 */
export class EvaluatorPool {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly live = new Set<ChildProcess>();
  private readonly jsonataPath = require.resolve('jsonata');
  private nextId = 1;
  private closed = false;
  private replaced = 0;
  private started = 0;

  constructor(private readonly options: EvaluatorPoolOptions) {
    this.slots = Array.from({ length: options.poolSize }, () => ({
      child: undefined,
      state: 'empty' as const,
      job: undefined,
      timer: undefined,
    }));
  }

  /** Processes killed or lost while running a job, since creation. */
  /** Process ids of the running evaluator processes. @internal (tests) */
  get pids(): number[] {
    return [...this.live].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
  }

  get restarts(): number {
    return this.replaced;
  }

  /** Processes started since creation. */
  get spawned(): number {
    return this.started;
  }

  /** Runs one expression body with bindings given as JSON text. Rejects only with UNAVAILABLE. */
  run(body: string, bindings: string): Promise<PoolOutcome> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<PoolOutcome>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, body, bindings, resolve, reject });
      this.dispatch();
    });
  }

  /** Fails waiting and running jobs with UNAVAILABLE and stops every process. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(closedError());
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.job?.reject(closedError());
      slot.job = undefined;
      slot.timer = undefined;
      slot.child = undefined;
      slot.state = 'empty';
    }
    const exits = [...this.live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.state === 'idle') this.assign(slot, this.queue.shift() as Job);
    }
    const starting = this.slots.filter((s) => s.state === 'starting').length;
    let missing = this.queue.length - starting;
    for (const slot of this.slots) {
      if (missing <= 0) return;
      if (slot.state === 'empty') {
        this.start(slot);
        missing -= 1;
      }
    }
  }

  private start(slot: Slot): void {
    const { maxMemoryMb, timeoutMs, maxDepth, maxResultBytes, cacheSize } = this.options;
    const limits = JSON.stringify({ timeoutMs, maxDepth, maxResultBytes, cacheSize });
    const env: NodeJS.ProcessEnv = process.env.TZ === undefined ? {} : { TZ: process.env.TZ };
    const child = spawn(
      process.execPath,
      [
        `--max-old-space-size=${maxMemoryMb}`,
        '--disallow-code-generation-from-strings',
        '-e',
        EVALUATOR_CHILD_SOURCE,
        this.jsonataPath,
        limits,
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env, windowsHide: true },
    );
    this.started += 1;
    this.live.add(child);
    slot.child = child;
    slot.state = 'starting';
    // An idle pool must not keep its host process alive; running jobs hold a (ref'd) timer.
    child.unref();
    child.channel?.unref();
    slot.timer = setTimeout(() => this.lose(slot, child, 'start'), this.options.startTimeoutMs);

    child.on('message', (message: ChildReply) => this.onMessage(slot, child, message));
    child.on('exit', (code, signal) => {
      this.live.delete(child);
      this.lose(slot, child, signal === 'SIGABRT' ? 'memory' : `exit ${signal ?? code ?? 'unknown'}`);
    });
    child.on('error', (err) => {
      this.lose(slot, child, `spawn failed: ${err.message}`);
      if (child.pid === undefined) this.live.delete(child);
    });
  }

  private assign(slot: Slot, job: Job): void {
    const child = slot.child as ChildProcess;
    slot.state = 'busy';
    slot.job = job;
    slot.sentAt = Date.now();
    slot.cpuAtSend = processCpuMs(child.pid);
    slot.timer = setTimeout(
      () => this.expire(slot, child),
      this.options.timeoutMs + this.options.killGraceMs,
    );
    child.send({ id: job.id, body: job.body, bindings: job.bindings }, (err) => {
      if (err) this.lose(slot, child, `send failed: ${err.message}`);
    });
  }

  private onMessage(slot: Slot, child: ChildProcess, message: ChildReply): void {
    if (slot.child !== child) return;
    if (slot.state === 'starting' && message.ready === true) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      slot.state = 'idle';
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (slot.state !== 'busy' || job === undefined || message.id !== job.id) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    slot.state = 'idle';
    job.resolve(toOutcome(message));
    this.dispatch();
  }

  /** The running job overran its deadline: kill the process, fail the job, refill the slot on demand. */
  private expire(slot: Slot, child: ChildProcess): void {
    if (slot.child !== child || slot.job === undefined) return;
    const limit = this.options.timeoutMs + this.options.killGraceMs;
    const cpuNow = processCpuMs(child.pid);
    const wall = Date.now() - (slot.sentAt ?? 0);
    if (slot.cpuAtSend !== undefined && cpuNow !== undefined && wall < limit * WALL_CAP_FACTOR) {
      const used = cpuNow - slot.cpuAtSend;
      if (used < limit) {
        // Starved, not looping: give it the CPU time it has not had yet (at least 10 ms more).
        slot.timer = setTimeout(() => this.expire(slot, child), Math.max(10, limit - used));
        return;
      }
    }
    const job = slot.job;
    this.detach(slot);
    child.kill('SIGKILL');
    this.replaced += 1;
    job.resolve({
      ok: false,
      reason: 'timeout',
      kind: 'timeout',
      message: `evaluation exceeded ${this.options.timeoutMs} ms; the evaluator process was killed`,
    });
    this.dispatch();
  }

  /** The process died or could not start. `why` is `memory`, `start` or a description. */
  private lose(slot: Slot, child: ChildProcess, why: string): void {
    if (slot.child !== child) return;
    const wasStarting = slot.state === 'starting';
    const job = slot.job;
    this.detach(slot);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (job !== undefined) {
      this.replaced += 1;
      job.resolve(
        why === 'memory'
          ? {
              ok: false,
              reason: 'memory',
              kind: 'memory',
              message: `evaluation exhausted the ${this.options.maxMemoryMb} MiB heap; the evaluator process was killed`,
            }
          : { ok: false, reason: 'error', kind: 'crash', message: `the evaluator process ended (${why})` },
      );
    } else if (wasStarting && !this.closed) {
      // Fail one waiting job so that a process that can never start does not hang its callers.
      this.queue
        .shift()
        ?.reject(
          new BatonError(ErrorCode.UNAVAILABLE, `expression evaluator process could not start (${why})`),
        );
    }
    this.dispatch();
  }

  private detach(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    slot.child = undefined;
    slot.state = 'empty';
  }
}

function toOutcome(message: ChildReply): PoolOutcome {
  if (message.ok === true) {
    return { ok: true, json: typeof message.json === 'string' ? message.json : undefined };
  }
  return {
    ok: false,
    reason: 'error',
    kind: typeof message.kind === 'string' ? message.kind : 'error',
    message: typeof message.message === 'string' ? message.message : 'evaluation failed',
    ...(typeof message.code === 'string' ? { code: message.code } : {}),
    ...(typeof message.position === 'number' ? { position: message.position } : {}),
  };
}

function closedError(): BatonError {
  return new BatonError(ErrorCode.UNAVAILABLE, 'the expression evaluator is closed');
}
