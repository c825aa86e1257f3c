/**
 * Network probes for the local stack: is something listening, is it NATS, is an HTTP endpoint ready,
 * which port is free. Used by scripts/start.mjs; tested by scripts/lib/net.spec.ts.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Hosts that mean "this machine": a server for them can be started locally. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);

/**
 * @param {string} host
 * @returns {boolean} whether `host` names this machine
 */
export function isLocalHost(host) {
  return LOCAL_HOSTS.has(host.toLowerCase());
}

/**
 * The first server of a NATS_URL value (comma-separated; `nats://host:port`, `host:port` or `host`).
 * @param {string} natsUrl
 * @returns {{ host: string, port: number }}
 */
export function firstNatsServer(natsUrl) {
  const first = natsUrl.split(',')[0].trim();
  const url = new URL(first.includes('://') ? first : `nats://${first}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 4222 };
}

/**
 * Host, port and database name of a postgres:// URL.
 * @param {string} databaseUrl
 * @returns {{ host: string, port: number, database: string }}
 */
export function postgresTarget(databaseUrl) {
  const url = new URL(databaseUrl);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`DATABASE_URL must be a postgres:// URL, got ${url.protocol}`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
    database,
  };
}

/**
 * The same URL with another port (and optionally another database).
 * @param {string} databaseUrl
 * @param {{ port?: number, database?: string }} change
 */
export function withPostgres(databaseUrl, change) {
  const url = new URL(databaseUrl);
  if (change.port !== undefined) url.port = String(change.port);
  if (change.database !== undefined) url.pathname = `/${encodeURIComponent(change.database)}`;
  return url.toString();
}

/**
 * Opens a TCP connection and hands the socket to `onConnect`, which settles the result.
 * @template T
 * @param {string} host
 * @param {number} port
 * @param {number} timeoutMs
 * @param {T} failure value when the connection fails or times out
 * @param {(socket: net.Socket, done: (value: T) => void) => void} onConnect
 * @returns {Promise<T>}
 */
function withConnection(host, port, timeoutMs, failure, onConnect) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const done = (value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(failure), timeoutMs);
    socket.on('error', () => done(failure));
    socket.once('connect', () => onConnect(socket, done));
  });
}

/**
 * Whether something accepts TCP connections at host:port.
 * @param {string} host
 * @param {number} port
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
export function isListening(host, port, timeoutMs = 1000) {
  return withConnection(host, port, timeoutMs, false, (_socket, done) => done(true));
}

/**
 * Whether a NATS server answers at host:port: it greets every connection with `INFO {...}`.
 * @param {string} host
 * @param {number} port
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
export function natsAnswers(host, port, timeoutMs = 2000) {
  return withConnection(host, port, timeoutMs, false, (socket, done) => {
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.length >= 5) done(received.startsWith('INFO '));
    });
    socket.once('end', () => done(false));
  });
}

/**
 * Whether `port` can be bound on `host` right now.
 * @param {number} port
 * @param {string} [host]
 * @returns {Promise<boolean>}
 */
export function isPortFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `preferred` when it is free, otherwise a port the OS hands out.
 * @param {string} [host]
 * @param {number} [preferred]
 * @returns {Promise<number>}
 */
export async function freePort(host = '127.0.0.1', preferred) {
  if (preferred !== undefined && (await isPortFree(preferred, host))) return preferred;
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `check` until it returns a truthy value, and returns that value.
 * @template T
 * @param {() => Promise<T> | T} check
 * @param {{ timeoutMs: number, intervalMs?: number, what: string, signal?: AbortSignal }} options
 * @returns {Promise<NonNullable<T>>}
 */
export async function waitFor(check, { timeoutMs, intervalMs = 250, what, signal }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const value = await check();
    if (value) return /** @type {NonNullable<T>} */ (value);
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}`);
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), undefined, { signal });
  }
}

/**
 * Whether GET `url` answers 2xx.
 * @param {string} url
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
export async function httpOk(url, timeoutMs = 2000) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
