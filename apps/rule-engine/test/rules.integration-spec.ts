import { Writable } from 'node:stream';

import type { INestApplication } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { Streams } from '@baton/contracts';
import { createDataSource } from '@baton/persistence';
import { bootstrapService, loadConfig } from '@baton/service-kit';
import { createTestDatabase, getFreePort, startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle, TestDatabase } from '@baton/testing';
import { BATON_STREAMS } from '@baton/transport-jetstream';

import { ruleEngineEnvSchema } from '../src/config/rule-engine.config';
import { RuleEngineModule } from '../src/rule-engine.module';
import { RuleSetCache } from '../src/rules/rule-set';
import { RULE_ENGINE_SERVICE } from '../src/service.descriptor';

interface Instance {
  app: INestApplication;
  base: string;
}

async function startInstance(nats: NatsServerHandle, db: TestDatabase): Promise<Instance> {
  const port = await getFreePort();
  const config = loadConfig(ruleEngineEnvSchema, {
    NATS_URL: nats.url,
    DATABASE_URL: db.url,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    // Long enough that only the change notification can refresh a compiled category within the test.
    BATON_RULES_CACHE_TTL_MS: '3600000',
  });
  const app = await bootstrapService({
    service: RULE_ENGINE_SERVICE,
    module: RuleEngineModule,
    config,
    streams: [BATON_STREAMS.NOTIFY],
    shutdownHooks: false,
    host: '127.0.0.1',
    logDestination: new Writable({ write: (_chunk, _enc, cb) => cb() }),
  });
  return { app, base: `http://127.0.0.1:${port}` };
}

async function http<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const rule = (id: string, priority: number, type: string, min: number, category = 'fraud') => ({
  id,
  name: `rule ${id}`,
  category,
  condition: { all: [{ fact: 'order', path: '$.total', operator: 'greaterThan', value: min }] },
  actions: [{ type, params: { by: id } }],
  priority,
});

describe('rule-engine rules (integration)', () => {
  let nats: NatsServerHandle;
  let db: TestDatabase;
  let a: Instance;
  let b: Instance;
  let nc: NatsConnection;

  beforeAll(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase()]);
    // Two instances on the same database and NATS; both migrate at start (the advisory lock serializes).
    [a, b] = await Promise.all([startInstance(nats, db), startInstance(nats, db)]);
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await a?.app.close();
    await b?.app.close();
    await db?.drop();
    await nats?.cleanup();
  });

  it('creates, reads, updates, deletes and keeps every version', async () => {
    const created = await http(a.base, 'POST', '/v1/rules', rule('crud-one', 5, 'approve', 10, 'crud'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'crud-one', version: 1, enabled: true, description: '' });
    expect((await http(a.base, 'POST', '/v1/rules', rule('crud-one', 5, 'approve', 10, 'crud'))).status).toBe(
      409,
    );

    const updated = await http(a.base, 'PUT', '/v1/rules/crud-one', {
      ...rule('crud-one', 7, 'review', 10, 'crud'),
      id: undefined,
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id: 'crud-one',
      version: 2,
      priority: 7,
      actions: [{ type: 'review', params: { by: 'crud-one' } }],
    });
    expect(updated.body.createdAt).toBe(created.body.createdAt);

    expect((await http(b.base, 'GET', '/v1/rules/crud-one')).body).toMatchObject({ version: 2, priority: 7 });
    await http(a.base, 'POST', '/v1/rules', rule('crud-two', 9, 'approve', 0, 'crud'));
    await http(a.base, 'POST', '/v1/rules', rule('other-cat', 1, 'approve', 0, 'elsewhere'));
    const listed = await http<{ items: { id: string }[] }>(a.base, 'GET', '/v1/rules?category=crud');
    expect(listed.body.items.map((r) => r.id)).toEqual(['crud-two', 'crud-one']);
    expect((await http(a.base, 'GET', '/v1/rules?category=a.b')).status).toBe(400);

    const deleted = await http(a.base, 'DELETE', '/v1/rules/crud-one');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: 'crud-one', version: 3, operation: 'delete' });
    expect((await http(a.base, 'GET', '/v1/rules/crud-one')).status).toBe(404);
    expect((await http(a.base, 'DELETE', '/v1/rules/crud-one')).status).toBe(404);
    expect(
      (await http(a.base, 'PUT', '/v1/rules/crud-one', rule('crud-one', 1, 'x', 0, 'crud'))).status,
    ).toBe(404);

    const versions = await http<{ items: { version: number; operation: string; priority: number }[] }>(
      a.base,
      'GET',
      '/v1/rules/crud-one/versions',
    );
    expect(versions.body.items.map((v) => [v.version, v.operation, v.priority])).toEqual([
      [1, 'create', 5],
      [2, 'update', 7],
      [3, 'delete', 7],
    ]);
    // A deleted id may be created again; its versions continue.
    const again = await http(a.base, 'POST', '/v1/rules', rule('crud-one', 2, 'approve', 0, 'crud'));
    expect(again.body).toMatchObject({ version: 4 });
    expect((await http(a.base, 'GET', '/v1/rules/never/versions')).status).toBe(404);

    // Versions are immutable in the database itself.
    const ds = createDataSource(db.url);
    await ds.initialize();
    try {
      await expect(
        ds.query(`UPDATE rule_versions SET priority = 0 WHERE rule_id = 'crud-one'`),
      ).rejects.toThrow(/append-only/);
    } finally {
      await ds.destroy();
    }
  });

  it('answers 422 listing every problem with its path', async () => {
    const res = await http<{ error: { code: string; details: { path: string; rule: string }[] } }>(
      a.base,
      'POST',
      '/v1/rules',
      {
        ...rule('bad', 1, 'approve', 0),
        colour: 'red',
        condition: {
          all: [
            { fact: 'email', operator: 'matches', value: '^(a+)+$' },
            { fact: 'x', operator: 'like', value: 1 },
          ],
        },
      },
    );
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details).toEqual([
      expect.objectContaining({ path: '/colour', rule: 'unknown' }),
      expect.objectContaining({ path: '/condition/all/0/value', rule: 'regex' }),
      expect.objectContaining({ path: '/condition/all/1/operator', rule: 'unknownOperator' }),
    ]);
    expect((await http(a.base, 'GET', '/v1/rules/bad')).status).toBe(404);
  });

  it('evaluates a category by priority, falls back to default, and evaluates named rules', async () => {
    await http(a.base, 'POST', '/v1/rules', rule('eval-small', 1, 'approve', 0, 'orders'));
    await http(a.base, 'POST', '/v1/rules', rule('eval-big', 10, 'review', 1000, 'orders'));
    await http(a.base, 'POST', '/v1/rules', {
      ...rule('eval-off', 100, 'reject', 0, 'orders'),
      enabled: false,
    });

    const big = await http(a.base, 'POST', '/v1/rules/evaluate', {
      category: 'orders',
      facts: { order: { total: 5000 } },
    });
    expect(big.status).toBe(200);
    expect(big.body).toEqual({
      outcome: 'review',
      rules: [
        {
          id: 'eval-big',
          version: 1,
          priority: 10,
          satisfied: true,
          event: { type: 'review', params: { by: 'eval-big' } },
        },
        {
          id: 'eval-small',
          version: 1,
          priority: 1,
          satisfied: true,
          event: { type: 'approve', params: { by: 'eval-small' } },
        },
      ],
    });
    const small = await http(a.base, 'POST', '/v1/rules/evaluate', {
      category: 'orders',
      facts: { order: { total: 50 } },
    });
    expect(small.body).toMatchObject({ outcome: 'approve' });
    const none = await http(a.base, 'POST', '/v1/rules/evaluate', {
      category: 'orders',
      facts: { order: { total: -5 } },
    });
    expect(none.body).toMatchObject({ outcome: 'default' });
    const empty = await http(a.base, 'POST', '/v1/rules/evaluate', { category: 'nothing-here', facts: {} });
    expect(empty.body).toEqual({ outcome: 'default', rules: [] });

    const named = await http(a.base, 'POST', '/v1/rules/evaluate', {
      ruleIds: ['eval-off', 'eval-small'],
      facts: { order: { total: 1 } },
    });
    expect(named.body).toMatchObject({
      outcome: 'reject',
      rules: [{ id: 'eval-off' }, { id: 'eval-small' }],
    });
    expect(
      (await http(a.base, 'POST', '/v1/rules/evaluate', { ruleIds: ['eval-small', 'nope'], facts: {} }))
        .status,
    ).toBe(404);
    expect(
      (
        await http(a.base, 'POST', '/v1/rules/evaluate', {
          category: 'orders',
          ruleIds: ['eval-small'],
          facts: {},
        })
      ).status,
    ).toBe(400);
    expect(
      (await http(a.base, 'POST', '/v1/rules/evaluate', { category: 'orders', facts: [1] })).status,
    ).toBe(422);

    expect(
      await http(a.base, 'POST', '/v1/rules/eval-big/evaluate', { facts: { order: { total: 2000 } } }),
    ).toEqual({
      status: 200,
      body: {
        ruleId: 'eval-big',
        version: 1,
        satisfied: true,
        event: { type: 'review', params: { by: 'eval-big' } },
      },
    });
    expect(
      (await http(a.base, 'POST', '/v1/rules/eval-big/evaluate', { facts: { order: { total: 1 } } })).body,
    ).toEqual({
      ruleId: 'eval-big',
      version: 1,
      satisfied: false,
    });
    expect((await http(a.base, 'POST', '/v1/rules/nope/evaluate', { facts: {} })).status).toBe(404);
  });

  it('evaluates a category as it was at a time (asOf), the way a pinned decision does', async () => {
    await http(a.base, 'POST', '/v1/rules', rule('pin-main', 5, 'approve', 0, 'pinning'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await http(a.base, 'PUT', '/v1/rules/pin-main', rule('pin-main', 5, 'reject', 0, 'pinning'));
    await http(a.base, 'POST', '/v1/rules', rule('pin-later', 9, 'review', 0, 'pinning'));
    const facts = { order: { total: 10 } };

    const latest = await http(a.base, 'POST', '/v1/rules/evaluate', { category: 'pinning', facts });
    expect(latest.body).toMatchObject({
      outcome: 'review',
      rules: [
        { id: 'pin-later', version: 1 },
        { id: 'pin-main', version: 2 },
      ],
    });
    // Both instances answer from the version history for a time before the change.
    for (const base of [a.base, b.base]) {
      const pinned = await http(base, 'POST', '/v1/rules/evaluate', {
        category: 'pinning',
        facts,
        asOf: started,
      });
      expect(pinned).toEqual({
        status: 200,
        body: {
          outcome: 'approve',
          rules: [
            {
              id: 'pin-main',
              version: 1,
              priority: 5,
              satisfied: true,
              event: { type: 'approve', params: { by: 'pin-main' } },
            },
          ],
        },
      });
    }
    const now = await http(a.base, 'POST', '/v1/rules/evaluate', {
      category: 'pinning',
      facts,
      asOf: new Date().toISOString(),
    });
    expect(now.body).toMatchObject({ outcome: 'review' });
    const bad = await http<{ error: { message: string } }>(a.base, 'POST', '/v1/rules/evaluate', {
      category: 'pinning',
      facts,
      asOf: 'yesterday',
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('asOf');
  });

  it('mirrors the API over NATS request-reply', async () => {
    const request = async (name: string, body: unknown) => {
      const msg = await nc.request(`baton.api.rule-engine.${name}`, JSON.stringify(body), { timeout: 5_000 });
      return {
        code: msg.headers?.get('Nats-Service-Error-Code') ?? '',
        body: msg.json<Record<string, unknown>>(),
      };
    };
    expect(await request('rules.create', rule('nats-one', 3, 'hold', 0, 'nats'))).toMatchObject({
      code: '',
      body: { id: 'nats-one', version: 1 },
    });
    expect((await request('rules.create', rule('nats-one', 3, 'hold', 0, 'nats'))).code).toBe('409');
    expect((await request('rules.get', { id: 'nats-one' })).body).toMatchObject({ id: 'nats-one' });
    expect((await request('rules.list', { category: 'nats' })).body).toMatchObject({
      items: [{ id: 'nats-one' }],
    });
    expect((await request('rules.update', { ...rule('nats-one', 4, 'pass', 0, 'nats') })).body).toMatchObject(
      {
        version: 2,
      },
    );
    expect(
      (await request('rules.evaluate', { category: 'nats', facts: { order: { total: 1 } } })).body,
    ).toMatchObject({
      outcome: 'pass',
    });
    expect(
      (await request('rules.evaluate-one', { id: 'nats-one', facts: { order: { total: 0 } } })).body,
    ).toEqual({
      ruleId: 'nats-one',
      version: 2,
      satisfied: false,
    });
    expect((await request('rules.versions', { id: 'nats-one' })).body).toMatchObject({
      items: [{ version: 1 }, { version: 2 }],
    });
    const invalid = await request('rules.create', { id: 'x' });
    expect(invalid.code).toBe('422');
    expect(invalid.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect((await request('rules.delete', { id: 'nats-one' })).body).toMatchObject({
      version: 3,
      operation: 'delete',
    });
    expect((await request('rules.get', { id: 'nats-one' })).code).toBe('404');
  });

  it('announces each change on BATON_EVENTS and drops the other instance’s compiled category', async () => {
    await http(a.base, 'POST', '/v1/rules', rule('inv-one', 1, 'approve', 0, 'shared'));
    const evaluate = async (inst: Instance) =>
      (
        await http<{ outcome: string }>(inst.base, 'POST', '/v1/rules/evaluate', {
          category: 'shared',
          facts: { order: { total: 10 } },
        })
      ).body.outcome;
    // B compiles and caches the category.
    expect(await evaluate(b)).toBe('approve');
    const cacheB = b.app.get(RuleSetCache);
    expect(cacheB.has('shared')).toBe(true);

    // A changes the rule: B hears of it and drops its compiled category, then decides with the new rule.
    await http(a.base, 'PUT', '/v1/rules/inv-one', rule('inv-one', 1, 'decline', 0, 'shared'));
    await waitFor(() => !cacheB.has('shared'), { what: 'instance B to drop category shared' });
    expect(await evaluate(b)).toBe('decline');

    // A rule created on B is seen by A's cached category too.
    expect(await evaluate(a)).toBe('decline');
    await http(b.base, 'POST', '/v1/rules', rule('inv-two', 5, 'escalate', 0, 'shared'));
    await waitFor(() => !a.app.get(RuleSetCache).has('shared'), {
      what: 'instance A to drop category shared',
    });
    expect(await evaluate(a)).toBe('escalate');

    // Moving a rule to another category announces both categories.
    expect(await evaluate(b)).toBe('escalate');
    await http(a.base, 'PUT', '/v1/rules/inv-two', rule('inv-two', 5, 'escalate', 0, 'moved'));
    await waitFor(() => !cacheB.has('shared'), { what: 'instance B to drop category shared after the move' });
    expect(await evaluate(b)).toBe('decline');

    // The notifications are stored in BATON_EVENTS with msgId rules:<id>:<version>.
    const jsm = await jetstreamManager(nc);
    const last = await jsm.streams.getMessage(Streams.NOTIFY, {
      last_by_subj: 'baton.events.rules.moved.changed',
    });
    expect(last?.header.get('Nats-Msg-Id')).toBe('rules:inv-two:2');
    expect(last?.json()).toEqual({ ruleId: 'inv-two', version: 2, category: 'moved', operation: 'update' });
    const previous = await jsm.streams.getMessage(Streams.NOTIFY, {
      last_by_subj: 'baton.events.rules.shared.changed',
    });
    expect(previous?.header.get('Nats-Msg-Id')).toBe('rules:inv-two:2:shared');
  });

  it('is ready with its database, NATS and the BATON_EVENTS stream, and counts evaluations', async () => {
    const res = await http<{ details: Record<string, { status: string }> }>(b.base, 'GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.details).sort()).toEqual(['database', 'nats', 'topology']);
    // The evaluations of the tests above were counted, and categories compiled.
    const metrics = await (await fetch(`${a.base}/metrics`)).text();
    expect(metrics).toMatch(/^baton_rule_evaluations_total\{[^}]*kind="category"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^baton_rule_evaluations_total\{[^}]*kind="rules"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^baton_rule_set_compilations_total\{[^}]*\} [1-9]/m);
  });
});
