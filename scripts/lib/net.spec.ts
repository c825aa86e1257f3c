import { runEsm } from '../testing/run-esm';

describe('scripts/lib/net.mjs', () => {
  it('parses NATS_URL and DATABASE_URL values', () => {
    const result = runEsm<Record<string, unknown>>(`
      import { firstNatsServer, postgresTarget, withPostgres, isLocalHost } from './scripts/lib/net.mjs';
      console.log(JSON.stringify({
        plain: firstNatsServer('nats://127.0.0.1:4222'),
        list: firstNatsServer(' nats://10.0.0.5:5222 , nats://10.0.0.6:5222'),
        bare: firstNatsServer('localhost'),
        hostPort: firstNatsServer('nats-1:4333'),
        pg: postgresTarget('postgres://postgres@127.0.0.1:5432/baton'),
        pgDefaults: postgresTarget('postgresql://u:p@db.internal/'),
        moved: withPostgres('postgres://postgres:s3cret@127.0.0.1:5432/baton?sslmode=disable', { port: 15432 }),
        otherDb: withPostgres('postgres://postgres@127.0.0.1:5432/baton', { database: 'postgres' }),
        local: ['127.0.0.1', 'localhost', '::1', '0.0.0.0', 'db.internal', '10.0.0.5'].map(isLocalHost),
      }));
    `);
    expect(result).toEqual({
      plain: { host: '127.0.0.1', port: 4222 },
      list: { host: '10.0.0.5', port: 5222 },
      bare: { host: 'localhost', port: 4222 },
      hostPort: { host: 'nats-1', port: 4333 },
      pg: { host: '127.0.0.1', port: 5432, database: 'baton' },
      pgDefaults: { host: 'db.internal', port: 5432, database: 'postgres' },
      moved: 'postgres://postgres:s3cret@127.0.0.1:15432/baton?sslmode=disable',
      otherDb: 'postgres://postgres@127.0.0.1:5432/postgres',
      local: [true, true, true, true, false, false],
    });
  });

  it('rejects a DATABASE_URL that is not postgres://', () => {
    const result = runEsm<{ message: string }>(`
      import { postgresTarget } from './scripts/lib/net.mjs';
      try { postgresTarget('mysql://root@127.0.0.1/baton'); console.log(JSON.stringify({ message: 'none' })); }
      catch (e) { console.log(JSON.stringify({ message: e.message })); }
    `);
    expect(result.message).toMatch(/postgres:\/\//);
  });

  it('tells a NATS server from another listener and from nothing', () => {
    const result = runEsm<Record<string, boolean>>(`
      import net from 'node:net';
      import { isListening, natsAnswers, freePort } from './scripts/lib/net.mjs';
      const listen = (greeting) => new Promise((resolve) => {
        const server = net.createServer((socket) => { socket.on('error', () => {}); socket.end(greeting); });
        server.listen(0, '127.0.0.1', () => resolve(server));
      });
      const nats = await listen('INFO {"server_id":"x","version":"2.9.10"}\\r\\n');
      const http = await listen('HTTP/1.1 400 Bad Request\\r\\n\\r\\n');
      const closed = await freePort();
      const out = {
        natsIsNats: await natsAnswers('127.0.0.1', nats.address().port),
        httpIsNats: await natsAnswers('127.0.0.1', http.address().port),
        closedIsNats: await natsAnswers('127.0.0.1', closed),
        httpListening: await isListening('127.0.0.1', http.address().port),
        closedListening: await isListening('127.0.0.1', closed),
      };
      nats.close(); http.close();
      console.log(JSON.stringify(out));
    `);
    expect(result).toEqual({
      natsIsNats: true,
      httpIsNats: false,
      closedIsNats: false,
      httpListening: true,
      closedListening: false,
    });
  });

  it('keeps a preferred port when it is free and picks another when it is taken', () => {
    const result = runEsm<{
      taken: number;
      whileTaken: number;
      free: boolean;
      afterClose: number;
      takenFree: boolean;
    }>(`
      import net from 'node:net';
      import { freePort, isPortFree } from './scripts/lib/net.mjs';
      const server = net.createServer();
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const taken = server.address().port;
      const whileTaken = await freePort('127.0.0.1', taken);
      const takenFree = await isPortFree(taken);
      await new Promise((r) => server.close(r));
      const afterClose = await freePort('127.0.0.1', taken);
      console.log(JSON.stringify({ taken, whileTaken, takenFree, afterClose, free: await isPortFree(whileTaken) }));
    `);
    expect(result.whileTaken).not.toBe(result.taken);
    expect(result.takenFree).toBe(false);
    expect(result.free).toBe(true);
    expect(result.afterClose).toBe(result.taken);
  });

  it('waits for a condition and names what it waited for when it gives up', () => {
    const result = runEsm<{ value: string; error: string; httpOk: boolean; http500: boolean }>(`
      import http from 'node:http';
      import { waitFor, httpOk } from './scripts/lib/net.mjs';
      let calls = 0;
      const value = await waitFor(() => (++calls >= 3 ? 'done' : null), { timeoutMs: 10000, intervalMs: 10, what: 'three calls' });
      let error = '';
      try { await waitFor(() => false, { timeoutMs: 50, intervalMs: 10, what: 'never' }); } catch (e) { error = e.message; }
      const server = http.createServer((req, res) => { res.statusCode = req.url === '/ok' ? 200 : 500; res.end('x'); });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const base = 'http://127.0.0.1:' + server.address().port;
      const out = { value, error, httpOk: await httpOk(base + '/ok'), http500: await httpOk(base + '/fail') };
      server.close();
      console.log(JSON.stringify(out));
    `);
    expect(result.value).toBe('done');
    expect(result.error).toMatch(/waiting for never/);
    expect(result.httpOk).toBe(true);
    expect(result.http500).toBe(false);
  });
});
