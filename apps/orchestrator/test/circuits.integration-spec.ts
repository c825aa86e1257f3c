import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';

import { bootstrapService, commonEnvSchema, loadConfig } from '@baton/service-kit';
import { getFreePort, startNatsServer } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';

import { CircuitBreaker } from '../src/circuits/circuit-breaker';
import { circuitEnvShape } from '../src/circuits/circuit.config';
import { CircuitsModule } from '../src/circuits/circuits.module';

/** The circuits module in a running service: configuration, `/v1/circuits` and `/metrics`. */
describe('circuits API (integration: own nats-server)', () => {
  let server: NatsServerHandle;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    server = await startNatsServer();
    const port = await getFreePort();
    app = await bootstrapService({
      service: { name: 'orchestrator', version: '0.0.0', defaultPort: port, description: 'circuits test' },
      module: CircuitsModule,
      config: loadConfig(commonEnvSchema.extend(circuitEnvShape), {
        NATS_URL: server.url,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        BATON_CIRCUIT_THRESHOLD: '2',
        BATON_CIRCUIT_COOL_OFF_MS: '60000',
      }),
      shutdownHooks: false,
      host: '127.0.0.1',
      logDestination: new Writable({ write: (_chunk, _enc, cb) => cb() }),
    });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
    await server?.cleanup();
  });

  it('shows the state of each action in the API and in /metrics', async () => {
    const breaker = app.get(CircuitBreaker);
    const now = Date.now();
    breaker.record('payments.charge', 'failure', now);
    breaker.record('payments.charge', 'failure', now);
    breaker.record('inventory.reserve', 'failure', now);
    expect(breaker.check('payments.charge', now + 1)).toEqual({ allowed: false, retryAt: now + 60_000 });

    const list = (await (await fetch(`${base}/v1/circuits`)).json()) as {
      enabled: boolean;
      items: { action: string; state: string }[];
    };
    expect(list.enabled).toBe(true);
    expect(list.items.map((c) => [c.action, c.state])).toEqual([
      ['inventory.reserve', 'closed'],
      ['payments.charge', 'open'],
    ]);
    const one = await (await fetch(`${base}/v1/circuits/payments.charge`)).json();
    expect(one).toMatchObject({ action: 'payments.charge', state: 'open', consecutiveFailures: 2, opens: 1 });
    expect(await (await fetch(`${base}/v1/circuits/never.failed`)).json()).toMatchObject({ state: 'closed' });
    const bad = await fetch(`${base}/v1/circuits/${encodeURIComponent('bad action!')}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { details: { path: string }[] } }).error.details[0].path).toBe(
      '/action',
    );

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/baton_circuit_state\{action="payments\.charge"[^}]*\} 2/);
    expect(metrics).toMatch(/baton_circuit_opens_total\{action="payments\.charge"[^}]*\} 1/);
  });
});
