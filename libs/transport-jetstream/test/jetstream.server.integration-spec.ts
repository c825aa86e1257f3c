/**
 * The Nest transport end to end: `@JetStreamConsumer` handlers in a Nest microservice served by
 * `JetStreamServer` against a real nats-server.
 */
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, type MicroserviceOptions, Payload } from '@nestjs/microservices';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type Observable, delay, of } from 'rxjs';

import { BatonError, type DeadLetterRecord, ErrorCode } from '@baton/contracts';
import { type NatsServerHandle, startNatsServer, waitFor } from '@baton/testing';

import {
  BATON_STREAMS,
  JetStreamConsumer,
  JetStreamContext,
  JetStreamPublisher,
  JetStreamServer,
  type MessageOutcome,
  connectNats,
  ensureStreams,
} from '../src';

type Behaviour = (data: unknown, ctx: JetStreamContext) => Promise<unknown> | Observable<unknown>;
const behaviours = new Map<string, Behaviour>();
const run = (name: string, data: unknown, ctx: JetStreamContext): Promise<unknown> | Observable<unknown> => {
  const fn = behaviours.get(name);
  if (fn === undefined) throw new Error(`no behaviour ${name}`);
  return fn(data, ctx);
};

@Controller()
class WorkController {
  @JetStreamConsumer({ stream: 'NEST', durable: 'nest-plain', filterSubject: 'nest.plain' })
  plain(data: unknown, ctx: JetStreamContext): Promise<unknown> | Observable<unknown> {
    return run('plain', data, ctx);
  }

  @JetStreamConsumer({ stream: 'NEST', durable: 'nest-params', filterSubject: 'nest.params' })
  params(@Ctx() ctx: JetStreamContext, @Payload() data: unknown): Promise<unknown> | Observable<unknown> {
    return run('params', data, ctx);
  }

  @JetStreamConsumer({ stream: 'NEST', durable: 'nest-terminal', filterSubject: 'nest.terminal' })
  terminal(data: unknown, ctx: JetStreamContext): Promise<unknown> | Observable<unknown> {
    return run('terminal', data, ctx);
  }

  @JetStreamConsumer({
    stream: 'NEST',
    durable: 'nest-retry',
    filterSubject: 'nest.retry',
    maxDeliver: 3,
    backoffMs: () => 50,
  })
  retry(data: unknown, ctx: JetStreamContext): Promise<unknown> | Observable<unknown> {
    return run('retry', data, ctx);
  }

  @JetStreamConsumer({ stream: 'NEST', durable: 'nest-observable', filterSubject: 'nest.observable' })
  observable(data: unknown, ctx: JetStreamContext): Promise<unknown> | Observable<unknown> {
    return run('observable', data, ctx);
  }

  @JetStreamConsumer({ stream: 'NEST', durable: 'nest-drain', filterSubject: 'nest.drain', concurrency: 2 })
  drain(data: unknown, ctx: JetStreamContext): Promise<unknown> | Observable<unknown> {
    return run('drain', data, ctx);
  }
}

@Module({ controllers: [WorkController] })
class WorkModule {}

let nats: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let publisher: JetStreamPublisher;

/**
 * Jest leaves Nest's lazy `import('@nestjs/microservices')` dynamic (jest.preset.js), which Node 20's vm
 * cannot run without --experimental-vm-modules; seed Nest's package cache with the CommonJS build instead.
 */
async function preloadNestMicroservices(): Promise<void> {
  const { loadPackage } = jest.requireActual<{
    loadPackage: (name: string, context: string, loader: () => Promise<unknown>) => Promise<unknown>;
  }>('@nestjs/common/internal');
  await loadPackage('@nestjs/microservices', 'test', async () => jest.requireActual('@nestjs/microservices'));
}

beforeAll(async () => {
  await preloadNestMicroservices();
  nats = await startNatsServer();
  nc = await connectNats({ servers: nats.url, name: 'nest-transport-test' });
  jsm = await jetstreamManager(nc);
  publisher = new JetStreamPublisher(nc);
  await ensureStreams(nc, [
    { name: 'NEST', subjects: ['nest.>'], retention: 'workqueue' },
    BATON_STREAMS.DLQ,
  ]);
});

afterAll(async () => {
  await nc?.close();
  await nats?.cleanup();
});

async function startApp(drainTimeoutMs?: number) {
  const outcomes: MessageOutcome[] = [];
  const events: MessageOutcome[] = [];
  const server = new JetStreamServer({
    connection: () => nc,
    onOutcome: (o) => outcomes.push(o),
    ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }),
  });
  server.on('outcome', (o) => events.push(o));
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(WorkModule, {
    strategy: server,
    logger: false,
  });
  await app.listen();
  return { app, server, outcomes, events };
}

async function deadLetter(durable: string): Promise<DeadLetterRecord | undefined> {
  try {
    const m = await jsm.streams.getMessage('BATON_DLQ', { last_by_subj: `baton.dlq.NEST.${durable}` });
    return m?.json<DeadLetterRecord>();
  } catch {
    return undefined;
  }
}

describe('JetStreamServer (Nest transport)', () => {
  let started: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    started = await startApp();
  });

  afterAll(async () => {
    await started?.app.close();
  });

  it('declares a durable pull consumer per handler and exposes the connection', async () => {
    const names: string[] = [];
    for await (const c of jsm.consumers.list('NEST')) names.push(c.name);
    expect(names.sort()).toEqual([
      'nest-drain',
      'nest-observable',
      'nest-params',
      'nest-plain',
      'nest-retry',
      'nest-terminal',
    ]);
    const info = await jsm.consumers.info('NEST', 'nest-retry');
    expect(info.config).toMatchObject({
      ack_policy: 'explicit',
      filter_subject: 'nest.retry',
      ack_wait: 30_000_000_000,
    });
    expect(started.server.unwrap<NatsConnection>()).toBe(nc);
  });

  it('hands handlers the parsed payload and a JetStreamContext, with or without param decorators, and acks', async () => {
    const seen: { name: string; data: unknown; ctx: unknown }[] = [];
    behaviours.set('plain', async (data, ctx) => void seen.push({ name: 'plain', data, ctx }));
    behaviours.set('params', async (data, ctx) => void seen.push({ name: 'params', data, ctx }));
    await publisher.publish(
      'nest.plain',
      { p: 1 },
      { msgId: 'plain-1', headers: { 'Baton-Execution-Id': 'e1' } },
    );
    await publisher.publish('nest.params', { p: 2 });
    await waitFor(() => seen.length === 2, { what: 'both handlers' });
    const plain = seen.find((s) => s.name === 'plain');
    const params = seen.find((s) => s.name === 'params');
    expect(plain?.data).toEqual({ p: 1 });
    expect(plain?.ctx).toBeInstanceOf(JetStreamContext);
    expect((plain?.ctx as JetStreamContext).msgId).toBe('plain-1');
    expect((plain?.ctx as JetStreamContext).header('Baton-Execution-Id')).toBe('e1');
    expect(params?.data).toEqual({ p: 2 });
    expect((params?.ctx as JetStreamContext).subject).toBe('nest.params');
    await waitFor(
      () =>
        started.outcomes.filter((o) => o.durable === 'nest-plain' || o.durable === 'nest-params').length ===
        2,
      { what: 'two outcomes' },
    );
    expect(
      started.outcomes
        .filter((o) => o.outcome === 'ack')
        .map((o) => o.durable)
        .sort(),
    ).toEqual(['nest-params', 'nest-plain']);
  });

  it("sees the handler's own error through Nest's exception layer: a terminal BatonError is dead-lettered once", async () => {
    let calls = 0;
    behaviours.set('terminal', async () => {
      calls++;
      throw new BatonError(ErrorCode.VALIDATION_FAILED, 'never valid', { retryable: false });
    });
    await publisher.publish('nest.terminal', { t: 1 });
    const outcome = await waitFor(() => started.outcomes.find((o) => o.durable === 'nest-terminal'), {
      what: 'the terminal outcome',
    });
    expect(outcome).toMatchObject({ outcome: 'dead', errorCode: 'VALIDATION_FAILED', deliveryCount: 1 });
    const record = await waitFor(() => deadLetter('nest-terminal'), { what: 'the dead letter' });
    expect(record).toMatchObject({
      errorCode: 'VALIDATION_FAILED',
      error: 'never valid',
      consumer: 'nest-terminal',
    });
    const ci = await jsm.consumers.info('NEST', 'nest-terminal');
    expect(ci.num_ack_pending).toBe(0);
    expect(ci.num_redelivered).toBe(0);
    expect(calls).toBe(1);
  });

  it('naks retryable errors with their own code, then dead-letters at maxDeliver', async () => {
    const deliveries: number[] = [];
    behaviours.set('retry', async (_data, ctx) => {
      deliveries.push(ctx.deliveryCount);
      throw new BatonError(ErrorCode.UNAVAILABLE, 'downstream unavailable');
    });
    await publisher.publish('nest.retry', { r: 1 });
    await waitFor(() => started.outcomes.some((o) => o.durable === 'nest-retry' && o.outcome === 'dead'), {
      what: 'the dead letter after three deliveries',
    });
    expect(deliveries).toEqual([1, 2, 3]);
    expect(
      started.outcomes.filter((o) => o.durable === 'nest-retry').map((o) => [o.outcome, o.errorCode]),
    ).toEqual([
      ['nak', 'UNAVAILABLE'],
      ['nak', 'UNAVAILABLE'],
      ['dead', 'UNAVAILABLE'],
    ]);
    expect((await deadLetter('nest-retry'))?.deliveries).toBe(3);
  });

  it('acks an observable result only once it completes, and reports outcomes to listeners', async () => {
    const emitted: string[] = [];
    behaviours.set('observable', () => {
      emitted.push('subscribed');
      return of('done').pipe(delay(200));
    });
    await publisher.publish('nest.observable', {});
    const outcome = await waitFor(() => started.events.find((o) => o.durable === 'nest-observable'), {
      what: 'the observable outcome',
    });
    expect(outcome.outcome).toBe('ack');
    expect(emitted).toEqual(['subscribed']);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(150);
  });
});

describe('JetStreamServer shutdown', () => {
  it('app.close() waits for in-flight handlers, which still ack, and leaves the connection open', async () => {
    const { app } = await startApp(60_000);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let active = 0;
    behaviours.set('drain', async () => {
      active++;
      await gate;
    });
    await publisher.publish('nest.drain', { d: 1 });
    await publisher.publish('nest.drain', { d: 2 });
    await waitFor(() => active === 2, { what: 'two handlers in flight' });

    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closed).toBe(false);
    release();
    await closing;
    const ci = await jsm.consumers.info('NEST', 'nest-drain');
    expect(ci.num_ack_pending).toBe(0);
    expect(ci.num_pending).toBe(0);
    expect(nc.isClosed()).toBe(false);
  });

  it('gives up waiting after drainTimeoutMs', async () => {
    const { app } = await startApp(300);
    let active = 0;
    behaviours.set('drain', () => {
      active++;
      return new Promise<void>(() => undefined);
    });
    await publisher.publish('nest.drain', { d: 3 });
    await waitFor(() => active === 1, { what: 'the stuck handler' });
    await app.close();
    expect(nc.isClosed()).toBe(false);
  });
});
