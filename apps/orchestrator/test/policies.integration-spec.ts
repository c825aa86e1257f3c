import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

import { KvBuckets } from '@baton/contracts';
import type { ErrorPolicy, WorkflowDefinition } from '@baton/contracts';
import { bootstrapService, commonEnvSchema, loadConfig } from '@baton/service-kit';
import { getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { connectNats } from '@baton/transport-jetstream';

import { PoliciesModule } from '../src/policies/policies.module';
import { PolicyRegistry } from '../src/policies/policy-registry';

const def: WorkflowDefinition = {
  id: 'orders',
  version: 1,
  policies: ['timeouts', 'catch-all'],
  steps: [{ id: 'a', type: 'task', action: 'x.y' }],
};
const step = def.steps[0];
const timeouts: ErrorPolicy = {
  name: 'timeouts',
  errorTypes: ['TIMEOUT'],
  retryPolicy: { maxAttempts: 4 },
  onExhausted: 'escalate',
};

describe('error policies on a KV bucket (integration: own nats-server)', () => {
  let server: NatsServerHandle;
  let ncA: NatsConnection;
  let ncB: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    ncA = await connectNats({ servers: server.url, name: 'policies-a' });
    ncB = await connectNats({ servers: server.url, name: 'policies-b' });
  });

  afterAll(async () => {
    await ncA?.close();
    await ncB?.close();
    await server?.cleanup();
  });

  const open = async (nc: NatsConnection) => {
    const registry = new PolicyRegistry(await new Kvm(nc).create(KvBuckets.POLICIES, { history: 5 }));
    await registry.start();
    return registry;
  };

  it('shares policies across instances through the watch, resolves synchronously, and survives a restart', async () => {
    const a = await open(ncA);
    const b = await open(ncB);
    try {
      expect((await a.put(timeouts)).outcome).toBe('created');
      await waitFor(() => b.get('timeouts'), { what: 'B to see timeouts' });
      expect(b.resolve(def, step, 'TIMEOUT')?.onExhausted).toBe('escalate');
      expect(b.resolve(def, step, 'CardDeclined')).toBeUndefined();

      expect((await b.put({ name: 'catch-all', errorTypes: ['*'], onExhausted: 'fail' })).outcome).toBe(
        'created',
      );
      await waitFor(() => a.resolve(def, step, 'CardDeclined'), { what: 'A to see catch-all' });
      expect(a.resolve(def, step, 'CardDeclined')?.name).toBe('catch-all');

      expect((await a.put(timeouts)).outcome).toBe('unchanged');
      expect((await b.put({ ...timeouts, onExhausted: 'compensate' })).outcome).toBe('updated');
      await waitFor(() => a.get('timeouts')?.onExhausted === 'compensate' || undefined, {
        what: 'A to see the update',
      });

      await a.delete('timeouts');
      await waitFor(() => (b.get('timeouts') === undefined ? true : undefined), {
        what: 'B to see the delete',
      });
      expect(b.resolve(def, step, 'TIMEOUT')?.name).toBe('catch-all');
      await expect(b.delete('timeouts')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // A deleted name can be registered again.
      expect((await b.put(timeouts)).outcome).toBe('created');
    } finally {
      a.stop();
      b.stop();
    }
    const restarted = await open(ncA);
    try {
      expect(restarted.list().map((p) => p.name)).toEqual(['catch-all', 'timeouts']);
      expect(restarted.resolve(def, step, 'TIMEOUT')?.retryPolicy).toEqual({ maxAttempts: 4 });
    } finally {
      restarted.stop();
    }
  });

  describe('HTTP API', () => {
    let app: INestApplication;
    let base: string;

    beforeAll(async () => {
      const port = await getFreePort();
      app = await bootstrapService({
        service: { name: 'orchestrator', version: '0.0.0', defaultPort: port, description: 'policies test' },
        module: PoliciesModule,
        config: loadConfig(commonEnvSchema, { NATS_URL: server.url, PORT: String(port), LOG_LEVEL: 'warn' }),
        shutdownHooks: false,
        host: '127.0.0.1',
        logDestination: new Writable({ write: (_chunk, _enc, cb) => cb() }),
      });
      base = `http://127.0.0.1:${port}`;
    });

    afterAll(async () => {
      await app?.close();
    });

    const call = async (
      method: string,
      path: string,
      body?: unknown,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions
    ): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${base}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: res.status, body: await res.json() };
    };

    it('registers, lists, reads and deletes policies; rejects bad ones with 422 naming the path', async () => {
      const policy = { name: 'http-retry', errorTypes: ['UNAVAILABLE'], onExhausted: 'continue' };
      const created = await call('POST', '/v1/policies', policy);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ ...policy, outcome: 'created', updatedAt: expect.any(String) });
      expect((await call('POST', '/v1/policies', policy)).status).toBe(200);
      expect((await call('GET', '/v1/policies')).body.items.map((p: ErrorPolicy) => p.name)).toContain(
        'http-retry',
      );
      expect((await call('GET', '/v1/policies/http-retry')).body).toMatchObject(policy);

      const bad = await call('POST', '/v1/policies', {
        name: 'x',
        errorTypes: [],
        onExhausted: 'explode',
        retryPolicy: { maxAttempts: 0 },
      });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('VALIDATION_FAILED');
      expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
        '/onExhausted',
        '/retryPolicy/maxAttempts',
      ]);

      expect((await call('DELETE', '/v1/policies/http-retry')).body).toEqual({
        name: 'http-retry',
        deleted: true,
      });
      expect((await call('GET', '/v1/policies/http-retry')).status).toBe(404);
      expect((await call('DELETE', '/v1/policies/http-retry')).status).toBe(404);
      expect((await call('GET', '/v1/policies/bad.name')).status).toBe(400);
    });

    it('mirrors register, list and get over NATS request-reply', async () => {
      const request = async (endpoint: string, body: unknown) => {
        const msg = await ncA.request(`baton.api.orchestrator.${endpoint}`, JSON.stringify(body), {
          timeout: 5000,
        });
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reply bodies are checked by the assertions
        return { code: msg.headers?.get('Nats-Service-Error-Code'), body: msg.json<any>() };
      };
      const policy = { name: 'nats-retry', errorTypes: ['*'], onExhausted: 'fail' };
      expect((await request('policies-register', policy)).body).toMatchObject({
        ...policy,
        outcome: 'created',
      });
      expect((await request('policies-get', { name: 'nats-retry' })).body).toMatchObject(policy);
      expect((await request('policies-list', {})).body.items.map((p: ErrorPolicy) => p.name)).toContain(
        'nats-retry',
      );
      const bad = await request('policies-register', { name: 'x', errorTypes: [] });
      expect(bad.code).toBe('422');
      expect(bad.body.error.details).toEqual([expect.objectContaining({ path: '/onExhausted' })]);
      expect((await request('policies-get', { name: 'missing' })).code).toBe('404');
    });
  });
});
