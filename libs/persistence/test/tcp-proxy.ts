import { type Server, type Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP proxy to the shared PostgreSQL that a test can take down and bring back: what a database
 * outage looks like to the client, without touching the shared server.
 */
export interface TcpProxy {
  port: number;
  /** Refuse new connections and cut the open ones. */
  down(): Promise<void>;
  /** Accept connections again on the same port. */
  up(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = createConnection({ host: targetHost, port: targetPort });
        sockets.add(client);
        sockets.add(upstream);
        const close = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen({ host: '127.0.0.1', port }, () => {
        const address = s.address();
        if (address !== null && typeof address === 'object') port = address.port;
        server = s;
        resolve();
      });
    });

  await listen();
  return {
    get port() {
      return port;
    },
    async down() {
      const s = server;
      server = undefined;
      for (const sock of sockets) sock.destroy();
      sockets.clear();
      if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async up() {
      if (server === undefined) await listen();
    },
  };
}
