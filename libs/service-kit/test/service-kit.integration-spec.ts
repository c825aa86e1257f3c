import { Writable } from 'node:stream';

import { Body, Controller, Injectable, Module, Post } from '@nestjs/common';
import type { INestApplication, OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import type { ServiceIdentity, ServiceInfo } from '@nats-io/services';
import { connect } from '@nats-io/transport-node';

import { BatonError } from '@baton/contracts';
import { getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { JetStreamConsumer, JetStreamPublisher } from '@baton/transport-jetstream';

import {
  NATS_CONNECTION,
  ReadinessRegistry,
  ServiceEndpoints,
  bootstrapService,
  commonEnvSchema,
  loadConfig,
} from '../src';

const SERVICE = {
  name: 'kit-test',
  version: '1.2.3',
  defaultPort: 8099,
  description: 'service-kit test service',
};
const TOKEN = 'kit-test-token';

/** What the test module saw, and a switch for its readiness check. */
@Injectable()
class Probe {
  healthy = true;
  received: unknown[] = [];
}

@Injectable()
class TestWiring implements OnModuleInit {
  constructor(
    private readonly endpoints: ServiceEndpoints,
    private readonly readiness: ReadinessRegistry,
    private readonly probe: Probe,
  ) {}

  onModuleInit(): void {
    this.endpoints.add('echo', async (data) => ({ echo: data === undefined ? '(empty)' : data }));
    this.endpoints.add('things.count', async () => ({ count: 2 }));
    this.endpoints.add('missing', async () => {
      throw new BatonError('NOT_FOUND', 'no thing\nnamed x');
    });
    this.endpoints.add('crash', async () => {
      throw new Error('secret internals');
    });
    this.readiness.add('probe', async () => {
      if (!this.probe.healthy) throw new Error('probe switched off');
    });
  }
}

@Controller('v1/things')
class ThingsController {
  @Post()
  create(@Body() body: unknown): { received: unknown } {
    return { received: body };
  }
}

@Controller()
class KitConsumer {
  constructor(private readonly probe: Probe) {}

  @JetStreamConsumer({ stream: 'KIT_TEST', durable: 'kit-test', filterSubject: 'kit.test.>' })
  async handle(data: unknown): Promise<void> {
    this.probe.received.push(data);
  }
}

@Module({ controllers: [ThingsController, KitConsumer], providers: [Probe, TestWiring] })
class KitTestModule {}

describe('bootstrapService (integration)', () => {
  let nats: NatsServerHandle;
  let app: INestApplication;
  let base: string;
  let port: number;
  let client: NatsConnection;
  const logs: string[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    port = await getFreePort();
    const config = loadConfig(commonEnvSchema, {
      NATS_URL: nats.url,
      PORT: String(port),
      BATON_API_TOKEN: TOKEN,
      BATON_MAX_PAYLOAD_BYTES: '2048',
      BATON_MAX_JSON_DEPTH: '5',
      BATON_DRAIN_TIMEOUT_MS: '5000',
    });
    const logDestination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l.length > 0),
        );
        done();
      },
    });
    app = await bootstrapService({
      service: SERVICE,
      module: KitTestModule,
      config,
      transport: true,
      streams: [{ name: 'KIT_TEST', subjects: ['kit.test.>'], retention: 'limits' }],
      consumers: [{ stream: 'KIT_TEST', durable: 'kit-extra', filterSubject: 'kit.test.extra' }],
      shutdownHooks: false,
      host: '127.0.0.1',
      logDestination,
    });
    base = `http://127.0.0.1:${port}`;
    client = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await nats?.cleanup();
  });

  it('logs one line when listening', () => {
    const lines = logs.map((l) => JSON.parse(l) as { msg?: string; name?: string });
    expect(lines).toContainEqual(
      expect.objectContaining({ name: 'baton-kit-test', msg: `baton-kit-test listening on :${port}` }),
    );
  });

  it('answers /health/live and /health/ready', async () => {
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok' });

    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      details: { nats: { status: 'up' }, topology: { status: 'up' }, probe: { status: 'up' } },
    });
  });

  it('serves Prometheus metrics with default metrics', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toMatch(/^process_cpu_user_seconds_total\{service="baton-kit-test"\} /m);
  });

  it('serves the OpenAPI document with bearer auth on /v1 routes', async () => {
    const res = await fetch(`${base}/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      info: { title: string; version: string };
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(doc.info).toMatchObject({ title: 'baton-kit-test', version: '1.2.3' });
    expect(doc.components.securitySchemes['bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/things']?.['post']?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/health/ready']?.['get']?.security).toBeUndefined();
    const ui = await fetch(`${base}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  describe('HTTP errors and bodies', () => {
    const auth = { authorization: `Bearer ${TOKEN}` };

    it('requires the bearer token on /v1 routes', async () => {
      const res = await fetch(`${base}/v1/things`, { method: 'POST' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="baton"');
      expect(await res.json()).toEqual({
        error: { code: 'UNAUTHORIZED', message: 'missing bearer token: send Authorization: Bearer <token>' },
      });
      const wrong = await fetch(`${base}/v1/things`, {
        method: 'POST',
        headers: { authorization: 'Bearer x' },
      });
      expect(wrong.status).toBe(401);
      // Unknown /v1 routes are guarded too.
      expect((await fetch(`${base}/v1/nothing`)).status).toBe(401);
    });

    it('accepts JSON and YAML bodies', async () => {
      const json = await fetch(`${base}/v1/things`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'a', n: [1, 2] }),
      });
      expect(json.status).toBe(201);
      expect(await json.json()).toEqual({ received: { id: 'a', n: [1, 2] } });

      const yaml = await fetch(`${base}/v1/things`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/yaml' },
        body: 'id: a\nn:\n  - 1\n  - 2\n',
      });
      expect(yaml.status).toBe(201);
      expect(await yaml.json()).toEqual({ received: { id: 'a', n: [1, 2] } });
    });

    it('renders body errors as JSON', async () => {
      const post = (type: string, body: string) =>
        fetch(`${base}/v1/things`, { method: 'POST', headers: { ...auth, 'content-type': type }, body });

      const badYaml = await post('text/yaml', 'a: 1\nb: [1, 2\nc: 3');
      expect(badYaml.status).toBe(400);
      expect(await badYaml.json()).toMatchObject({
        error: {
          code: 'BAD_REQUEST',
          message: expect.stringMatching(/not valid YAML: .* at line 3, column 1$/),
        },
      });

      const badJson = await post('application/json', '{"a":');
      expect(badJson.status).toBe(400);
      expect(await badJson.json()).toMatchObject({
        error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^request body is not valid JSON/) },
      });

      const large = await post('application/json', JSON.stringify({ pad: 'x'.repeat(4096) }));
      expect(large.status).toBe(413);
      expect(await large.json()).toEqual({
        error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than the limit of 2048 bytes' },
      });

      const deep = await post(
        'application/json',
        JSON.stringify({ a: { b: { c: { d: { e: { f: 1 } } } } } }),
      );
      expect(deep.status).toBe(422);
      expect(await deep.json()).toMatchObject({
        error: { code: 'VALIDATION_FAILED', message: 'request body nests deeper than 5 levels' },
      });

      const text = await post('text/plain', 'hello');
      expect(text.status).toBe(415);
      expect(await text.json()).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    });

    it('renders unknown routes as NOT_FOUND', async () => {
      const res = await fetch(`${base}/nowhere`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Cannot GET /nowhere' } });
    });
  });

  describe('NATS micro service', () => {
    it('answers $SRV.PING and $SRV.INFO as baton-<name>', async () => {
      const svc = new Svcm(client as unknown as ConstructorParameters<typeof Svcm>[0]).client();
      const pings: ServiceIdentity[] = [];
      for await (const p of await svc.ping('baton-kit-test')) pings.push(p);
      expect(pings).toEqual([expect.objectContaining({ name: 'baton-kit-test', version: '1.2.3' })]);

      const infos: ServiceInfo[] = [];
      for await (const i of await svc.info('baton-kit-test')) infos.push(i);
      expect(infos[0]?.description).toBe('service-kit test service');
      expect(infos[0]?.endpoints.map((e) => e.subject).sort()).toEqual([
        'baton.api.kit-test.crash',
        'baton.api.kit-test.echo',
        'baton.api.kit-test.missing',
        'baton.api.kit-test.things.count',
      ]);
      expect(infos[0]?.endpoints.map((e) => e.name)).toContain('things-count');
    });

    it('replies JSON from an endpoint', async () => {
      const reply = await client.request('baton.api.kit-test.echo', JSON.stringify({ hello: 'world' }), {
        timeout: 5000,
      });
      expect(reply.headers?.get('Nats-Service-Error-Code') ?? '').toBe('');
      expect(reply.json()).toEqual({ echo: { hello: 'world' } });
      const empty = await client.request('baton.api.kit-test.echo', undefined, { timeout: 5000 });
      expect(empty.json()).toEqual({ echo: '(empty)' });
      const dotted = await client.request('baton.api.kit-test.things.count', undefined, { timeout: 5000 });
      expect(dotted.json()).toEqual({ count: 2 });
    });

    it('answers errors with Nats-Service-Error headers and the JSON error body', async () => {
      const missing = await client.request('baton.api.kit-test.missing', '{}', { timeout: 5000 });
      expect(missing.headers?.get('Nats-Service-Error-Code')).toBe('404');
      expect(missing.headers?.get('Nats-Service-Error')).toBe('no thing named x');
      expect(missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no thing\nnamed x' } });

      const crash = await client.request('baton.api.kit-test.crash', '{}', { timeout: 5000 });
      expect(crash.headers?.get('Nats-Service-Error-Code')).toBe('500');
      expect(crash.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });

      const bad = await client.request('baton.api.kit-test.echo', '{"a":', { timeout: 5000 });
      expect(bad.headers?.get('Nats-Service-Error-Code')).toBe('400');
      expect(bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    });
  });

  it('consumes JetStream messages through the transport and counts outcomes', async () => {
    const publisher = app.get(JetStreamPublisher);
    await publisher.publish('kit.test.one', { n: 1 }, { msgId: 'kit-test-1' });
    const probe = app.get(Probe);
    await waitFor(() => probe.received.length > 0, { what: 'the message to be handled' });
    expect(probe.received).toEqual([{ n: 1 }]);
    const text = await waitFor(
      async () => {
        const body = await (await fetch(`${base}/metrics`)).text();
        return /baton_messages_processed_total\{durable="kit-test",outcome="ack",service="baton-kit-test"\} 1/.test(
          body,
        )
          ? body
          : undefined;
      },
      { what: 'the ack to be counted' },
    );
    expect(text).toContain('baton_message_processing_seconds_count');
  });

  it('turns /health/ready to 503 naming a failing check', async () => {
    const probe = app.get(Probe);
    probe.healthy = false;
    try {
      const res = await fetch(`${base}/health/ready`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: {
          code: 'UNAVAILABLE',
          message: 'not ready: probe (probe switched off)',
          details: [{ path: '/probe', message: 'probe switched off', rule: 'ready' }],
        },
      });
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
    } finally {
      probe.healthy = true;
    }
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
  });

  it('turns /health/ready to 503 when a declared consumer disappears', async () => {
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const jsm = await jetstreamManager(client);
    await jsm.consumers.delete('KIT_TEST', 'kit-extra');
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: { code: 'UNAVAILABLE', message: 'not ready: topology (missing consumer KIT_TEST/kit-extra)' },
    });
  });

  it('stops the micro service and drains NATS on close', async () => {
    const nc = app.get<NatsConnection>(NATS_CONNECTION);
    await app.close();
    expect(nc.isClosed()).toBe(true);
    const messages = logs.map((l) => (JSON.parse(l) as { msg?: string }).msg);
    expect(messages).toContain('shutting down: stopping consumers');
    expect(messages.indexOf('NATS connection drained')).toBeGreaterThan(
      messages.indexOf('shutting down: stopping consumers'),
    );
    await expect(client.request('baton.api.kit-test.echo', '{}', { timeout: 1000 })).rejects.toThrow();
  });
});
