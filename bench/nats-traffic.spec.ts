import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { trafficDelta, trafficSample } from './nats-traffic';

describe('nats traffic accounting', () => {
  it('sums /connz per connection name', async () => {
    const server = createServer((req, res) => {
      expect(req.url).toBe('/connz?limit=1024');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          connections: [
            { name: 'baton-orchestrator', in_msgs: 10, out_msgs: 7 },
            { name: 'baton-orchestrator', in_msgs: 5, out_msgs: 1 },
            { in_msgs: 2, out_msgs: 3 },
          ],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      await expect(trafficSample(port)).resolves.toEqual({
        'baton-orchestrator': { in: 15, out: 8 },
        '(unnamed)': { in: 2, out: 3 },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('names the status of a failed answer', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await expect(trafficSample((server.address() as AddressInfo).port)).rejects.toThrow(/503/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('divides the difference of two samples by the units of work', () => {
    expect(
      trafficDelta({ a: { in: 10, out: 4 } }, { a: { in: 30, out: 24 }, b: { in: 4, out: 2 } }, 2),
    ).toEqual({ a: { in: 10, out: 10 }, b: { in: 2, out: 1 } });
  });
});
