/**
 * Process supervision for `npm start`: children run in their own process group (so a terminal's Ctrl-C
 * reaches only the supervisor, which then stops them in order), their output is prefixed with their name
 * line by line, and `stopAll()` stops everything in reverse start order — a SIGTERM, time to exit, then
 * SIGKILL. Besides processes, any resource with an async `stop` (a PostgreSQL started by pg_ctl) can be
 * registered so that it is stopped at its place in that order.
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

/**
 * @typedef {object} SpawnOptions
 * @property {NodeJS.ProcessEnv} [env]
 * @property {string} [cwd]
 * @property {NodeJS.Signals} [stopSignal] first signal sent by stop (default SIGTERM)
 * @property {number} [stopTimeoutMs] time to exit after stopSignal before SIGKILL (default 20 s)
 */

/**
 * @typedef {object} Child
 * @property {string} name
 * @property {import('node:child_process').ChildProcess} process
 * @property {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} exited
 * @property {boolean} running
 * @property {boolean} [stopRequested]
 */

export class Supervisor {
  /**
   * @param {{ out?: NodeJS.WritableStream, color?: boolean, names?: string[], onUnexpectedExit?: (name: string, code: number | null, signal: NodeJS.Signals | null) => void }} [options]
   *   `names`: the names that will log, known up front, so that the prefixes line up from the first line
   */
  constructor(options = {}) {
    this.out = options.out ?? process.stdout;
    this.color = options.color ?? Boolean(/** @type {any} */ (this.out).isTTY);
    this.onUnexpectedExit = options.onUnexpectedExit;
    /** @type {{ name: string, stop: () => Promise<void> }[]} */
    this.entries = [];
    /** @type {Set<Child>} */
    this.children = new Set();
    this.stopping = false;
    this.width = 8;
    this.colorIndex = 0;
    /** @type {Map<string, number>} */
    this.colorOf = new Map();
    for (const name of options.names ?? []) this.register(name);
    // Last resort when the supervisor dies without stopAll (an uncaught error): no child outlives it.
    this.onExit = () => this.killAll();
    process.on('exit', this.onExit);
  }

  /** @param {string} name */
  register(name) {
    if (this.colorOf.has(name)) return;
    this.colorOf.set(name, COLORS[this.colorIndex++ % COLORS.length]);
    this.width = Math.max(this.width, name.length);
  }

  /**
   * Writes one line prefixed with `name`.
   * @param {string} name
   * @param {string} line
   */
  log(name, line) {
    this.register(name);
    const label = name.padEnd(this.width);
    const prefix = this.color ? `\x1b[${this.colorOf.get(name)}m${label}\x1b[0m |` : `${label} |`;
    this.out.write(`${prefix} ${line}\n`);
  }

  /**
   * Starts a process in its own process group, prefixing its stdout and stderr lines with `name`.
   * @param {string} name
   * @param {string} command
   * @param {string[]} args
   * @param {SpawnOptions} [options]
   * @returns {Child}
   */
  spawn(name, command, args, options = {}) {
    if (this.stopping) throw new Error(`not starting ${name}: stopping`);
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    /** @type {Child} */
    const entry = {
      name,
      process: child,
      running: true,
      exited: new Promise((resolve) => {
        child.once('error', (error) => {
          this.log(name, `failed to start ${command}: ${error.message}`);
          entry.running = false;
          resolve({ code: 127, signal: null });
        });
        child.once('exit', (code, signal) => {
          entry.running = false;
          resolve({ code, signal });
        });
      }),
    };
    for (const stream of [child.stdout, child.stderr]) {
      readline
        .createInterface({ input: stream, crlfDelay: Infinity })
        .on('line', (line) => this.log(name, line));
    }
    void entry.exited.then(({ code, signal }) => {
      this.children.delete(entry);
      if (entry.stopRequested) return;
      this.log(name, `exited (${signal ?? `code ${code}`})`);
      if (!this.stopping) this.onUnexpectedExit?.(name, code, signal);
    });
    this.children.add(entry);
    const stopSignal = options.stopSignal ?? 'SIGTERM';
    const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
    this.entries.push({
      name,
      stop: async () => {
        if (!entry.running) return;
        entry.stopRequested = true;
        killGroup(child, stopSignal);
        const timer = setTimeout(() => {
          this.log(name, `did not exit ${stopTimeoutMs / 1000}s after ${stopSignal}: SIGKILL`);
          killGroup(child, 'SIGKILL');
        }, stopTimeoutMs);
        const { code, signal } = await entry.exited;
        clearTimeout(timer);
        this.log(name, `stopped (${signal ?? `code ${code}`})`);
      },
    });
    return entry;
  }

  /**
   * Registers something that is not a child process but must be stopped in order (after whatever is
   * registered later, before whatever was registered earlier).
   * @param {string} name
   * @param {() => Promise<void>} stop
   */
  add(name, stop) {
    if (this.stopping) throw new Error(`not registering ${name}: stopping`);
    this.entries.push({ name, stop });
  }

  /** Sends SIGKILL to every child still running (a second Ctrl-C while stopping). */
  killAll() {
    for (const child of this.children) if (child.running) killGroup(child.process, 'SIGKILL');
  }

  /** Stops everything, last started first. Safe to call more than once. */
  async stopAll() {
    if (this.stopping) return this.stopped;
    this.stopping = true;
    this.stopped = (async () => {
      for (const entry of [...this.entries].reverse()) {
        try {
          await entry.stop();
        } catch (error) {
          this.log(entry.name, `stop failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      this.entries = [];
      process.off('exit', this.onExit);
    })();
    return this.stopped;
  }
}

/**
 * Signals a child's whole process group (it was spawned detached, so its pid is the group id).
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
function killGroup(child, signal) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
