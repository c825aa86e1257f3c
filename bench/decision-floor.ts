/**
 * The floor of a decision step: the least any implementation of Baton's decision choreography can cost on
 * this machine, with the same client library and server, measured in the same run as `decision-bench`.
 *
 * One sample, across two processes as in Baton (this one plays the orchestrator, a forked child the
 * rule-engine): publish a request to a stream; the child takes it from a durable pull consumer, publishes
 * the answer to a second stream (with a msg id, awaiting its PubAck) and acks; this process takes the
 * answer from its durable consumer, writes a ~2 KB value to a KV bucket with compare-and-set, publishes
 * the next message (the "task") and awaits its PubAck, then acks the answer. The figure is the time from
 * the request's publish to the task's PubAck: what a decision adds before its next task is in the stream.
 * No JSON rules, no history, no projections: Baton's own work on top of this is what the bench adds.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerMessages, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

import { percentiles } from './stats';

const RESPONDER_FLAG = '--decision-floor-responder';
const VALUE = JSON.stringify({ state: 'x'.repeat(2000) });

interface Names {
  requests: string;
  answers: string;
  tasks: string;
  bucket: string;
}

function namesOf(suffix: string): Names {
  return {
    requests: `DFLOOR_REQ_${suffix}`,
    answers: `DFLOOR_ANS_${suffix}`,
    tasks: `DFLOOR_TASK_${suffix}`,
    bucket: `dfloor_${suffix}`,
  };
}

async function durable(
  jsm: JetStreamManager,
  js: JetStreamClient,
  stream: string,
  subject: string,
): Promise<ConsumerMessages> {
  await jsm.consumers.add(stream, {
    durable_name: 'floor',
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 1000,
  });
  const consumer = await js.consumers.get(stream, 'floor');
  return consumer.consume({ max_messages: 64 });
}

/** The child: answers every request, like the rule-engine's decision consumer. */
async function respond(url: string, suffix: string): Promise<void> {
  const names = namesOf(suffix);
  const nc = await connect({ servers: url, name: 'bench-decision-floor-responder', noAsyncTraces: true });
  const js = jetstream(nc);
  const messages = await durable(await jetstreamManager(nc), js, names.requests, `${names.requests}.>`);
  process.send?.('ready');
  for await (const m of messages) {
    const id = m.string();
    await js.publish(`${names.answers}.${id}`, id, { msgID: `answer:${id}` });
    m.ack();
  }
}

export async function measureDecisionFloor(
  url: string,
  opts: { samples: number },
): Promise<ReturnType<typeof percentiles>> {
  const suffix = randomBytes(4).toString('hex');
  const names = namesOf(suffix);
  const nc: NatsConnection = await connect({
    servers: url,
    name: 'bench-decision-floor',
    noAsyncTraces: true,
  });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  let child: ChildProcess | undefined;
  const loops: ConsumerMessages[] = [];
  try {
    await jsm.streams.add({ name: names.requests, subjects: [`${names.requests}.>`] });
    await jsm.streams.add({ name: names.answers, subjects: [`${names.answers}.>`] });
    await jsm.streams.add({ name: names.tasks, subjects: [`${names.tasks}.>`] });
    const kv = await new Kvm(js).create(names.bucket, { history: 1 });

    child = fork(__filename, [RESPONDER_FLAG, url, suffix], { stdio: 'inherit' });
    const running = child;
    await new Promise<void>((resolve, reject) => {
      running.once('message', () => resolve());
      running.once('exit', (code) => reject(new Error(`decision floor responder exited (${code})`)));
    });

    const waiters = new Map<string, () => void>();
    const revisions = new Map<string, number>();
    const answers = await durable(jsm, js, names.answers, `${names.answers}.>`);
    loops.push(answers);
    void (async () => {
      for await (const m of answers) {
        const id = m.string();
        const revision = revisions.get(id);
        if (revision === undefined) {
          m.ack();
          continue;
        }
        await kv.update(id, VALUE, revision);
        await js.publish(`${names.tasks}.${id}`, id, { msgID: `task:${id}` });
        m.ack();
        waiters.get(id)?.();
      }
    })();

    let n = 0;
    const sample = async (): Promise<number> => {
      const id = `s${n++}`;
      revisions.set(id, await kv.create(id, VALUE));
      return new Promise<number>((resolve, reject) => {
        const started = performance.now();
        waiters.set(id, () => {
          waiters.delete(id);
          revisions.delete(id);
          resolve(performance.now() - started);
        });
        js.publish(`${names.requests}.${id}`, id, { msgID: `request:${id}` }).catch(reject);
      });
    };
    for (let i = 0; i < 200; i++) await sample();
    const latencies: number[] = [];
    for (let i = 0; i < opts.samples; i++) latencies.push(await sample());
    return percentiles(latencies);
  } finally {
    for (const loop of loops) await loop.close().catch(() => undefined);
    child?.kill('SIGKILL');
    for (const stream of [names.requests, names.answers, names.tasks, `KV_${names.bucket}`]) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
    await nc.close();
  }
}

if (process.argv[2] === RESPONDER_FLAG) {
  respond(process.argv[3] ?? '', process.argv[4] ?? '').catch((err: unknown) => {
    process.stderr.write(`decision floor responder failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
