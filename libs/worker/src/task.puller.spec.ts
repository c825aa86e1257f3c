import type { Msg, NatsConnection } from '@nats-io/nats-core';

import { TaskPuller } from './task.puller';
import type { WorkerLogger } from './worker.types';

const quiet: WorkerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

interface FakeSub {
  subject: string;
  callback: (err: Error | null, msg: Msg) => void;
  closed: boolean;
  drained: boolean;
}

interface PullRequestSent {
  inbox: string;
  batch: number;
  expires: number;
  idle_heartbeat: number;
}

/** Just enough of a NatsConnection for the puller: subscriptions, publishes, and a way to reply. */
class FakeConnection {
  readonly subs: FakeSub[] = [];
  readonly requests: PullRequestSent[] = [];
  readonly responses: { reply: string; payload: string }[] = [];
  readonly publishedTo: string[] = [];

  subscribe(subject: string, opts: { callback: FakeSub['callback'] }) {
    const sub: FakeSub = { subject, callback: opts.callback, closed: false, drained: false };
    this.subs.push(sub);
    return {
      unsubscribe: () => {
        sub.closed = true;
      },
      drain: async () => {
        sub.drained = true;
        sub.closed = true;
      },
      isClosed: () => sub.closed,
    };
  }

  publish(subject: string, data: string, opts: { reply: string }): void {
    this.publishedTo.push(subject);
    this.requests.push({ inbox: opts.reply, ...(JSON.parse(data) as Omit<PullRequestSent, 'inbox'>) });
  }

  isClosed(): boolean {
    return false;
  }

  /** Open requests: sent and whose subscription is still open. */
  open(): PullRequestSent[] {
    return this.requests.filter((r) => this.subs.some((s) => s.subject === r.inbox && !s.closed));
  }

  deliver(request: PullRequestSent, seq: number): void {
    const sub = this.subs.find((s) => s.subject === request.inbox) as FakeSub;
    sub.callback(
      null,
      this.msg(`baton.tasks.a.b`, `$JS.ACK.BATON_TASKS.task_a_b.1.${seq}.${seq}.0.0`, undefined),
    );
  }

  status(request: PullRequestSent, code: number, description: string): void {
    const sub = this.subs.find((s) => s.subject === request.inbox) as FakeSub;
    sub.callback(null, this.msg(request.inbox, undefined, { code, description }));
  }

  private msg(
    subject: string,
    reply: string | undefined,
    status: { code: number; description: string } | undefined,
  ): Msg {
    return {
      subject,
      reply,
      data: new Uint8Array(),
      headers: status === undefined ? undefined : { code: status.code, description: status.description },
      respond: (payload: Uint8Array) => {
        this.responses.push({ reply: reply ?? '', payload: new TextDecoder().decode(payload) });
        return true;
      },
    } as unknown as Msg;
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

const pullers: TaskPuller[] = [];
afterEach(async () => {
  for (const puller of pullers.splice(0)) await puller.stop();
});

function setup(concurrency: number) {
  const nc = new FakeConnection();
  let released = 0;
  const received: { seq: string; release: () => void }[] = [];
  const stale: string[] = [];
  const puller = new TaskPuller({
    nc: nc as unknown as NatsConnection,
    stream: 'BATON_TASKS',
    durable: 'task_a_b',
    concurrency,
    logger: quiet,
    onMessage: (msg, release) => {
      let done = false;
      received.push({
        seq: String(msg.reply),
        release: () => {
          if (!done) released++;
          done = true;
          release();
        },
      });
    },
    onStale: (reason) => stale.push(reason),
  });
  pullers.push(puller);
  /** Slots in use as the server sees them: messages held plus messages asked for in open requests. */
  const held = () => received.length - released + nc.open().reduce((n, r) => n + r.batch, 0);
  return { nc, puller, received, stale, held };
}

describe('TaskPuller', () => {
  it('asks for exactly the free slots with a pull request to the durable consumer', async () => {
    const { nc, puller } = setup(3);
    puller.resume();
    await tick();
    expect(nc.publishedTo).toEqual(['$JS.API.CONSUMER.MSG.NEXT.BATON_TASKS.task_a_b']);
    expect(nc.requests).toEqual([
      {
        inbox: expect.stringMatching(/^_INBOX\./),
        batch: 3,
        expires: 30_000_000_000,
        idle_heartbeat: 5_000_000_000,
      },
    ]);
    expect(puller.requested).toBe(3);
  });

  it('never holds more than concurrency messages and asks again only for released slots', async () => {
    const { nc, puller, received, held } = setup(2);
    puller.resume();
    await tick();
    const [first] = nc.requests as [PullRequestSent];
    nc.deliver(first, 1);
    nc.deliver(first, 2);
    await tick();
    expect(received).toHaveLength(2);
    expect(puller.inFlight).toBe(2);
    expect(nc.open()).toHaveLength(0); // request filled, nothing asked for
    expect(nc.requests).toHaveLength(1);

    expect(held()).toBe(2);

    received[0]?.release();
    received[0]?.release(); // twice is once
    await tick();
    expect(nc.requests).toHaveLength(2);
    expect(nc.requests[1]?.batch).toBe(1);
    expect(held()).toBe(2);
    expect(puller.inFlight + puller.requested).toBe(2);

    nc.deliver(nc.requests[1], 3);
    received[1]?.release();
    received[2]?.release();
    await tick();
    expect(nc.requests.map((r) => r.batch)).toEqual([2, 1, 2]);
    expect(held()).toBe(2);
  });

  it('returns the unfilled slots of an expired request (408) and asks again', async () => {
    const { nc, puller, received } = setup(4);
    puller.resume();
    await tick();
    const [first] = nc.requests as [PullRequestSent];
    nc.deliver(first, 1);
    nc.status(first, 408, 'Request Timeout');
    await tick();
    expect(received).toHaveLength(1);
    expect(nc.requests).toHaveLength(2);
    expect(nc.requests[1]?.batch).toBe(3);
    expect(puller.inFlight + puller.requested).toBe(4);
  });

  it('ignores idle heartbeats (100)', async () => {
    const { nc, puller } = setup(2);
    puller.resume();
    await tick();
    nc.status(nc.requests[0], 100, 'Idle Heartbeat');
    await tick();
    expect(nc.requests).toHaveLength(1);
    expect(nc.open()).toHaveLength(1);
  });

  it('reports a deleted consumer (409) as stale and stops asking until resumed', async () => {
    const { nc, puller, stale } = setup(2);
    puller.resume();
    await tick();
    nc.status(nc.requests[0], 409, 'Consumer Deleted');
    await tick();
    expect(stale).toEqual(['the consumer was deleted']);
    expect(puller.requested).toBe(0);
    puller.pause();
    await tick();
    expect(nc.requests).toHaveLength(1);
    puller.resume();
    await tick();
    expect(nc.requests).toHaveLength(2);
  });

  it('backs off after other 409s instead of asking again at once', async () => {
    const { nc, puller } = setup(2);
    puller.resume();
    await tick();
    nc.status(nc.requests[0], 409, 'Exceeded MaxWaiting');
    await tick();
    expect(nc.requests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(nc.requests).toHaveLength(2);
    await puller.stop();
  });

  it('drops open requests on pause and asks again on resume', async () => {
    const { nc, puller } = setup(2);
    puller.resume();
    await tick();
    puller.pause();
    expect(nc.open()).toHaveLength(0);
    expect(puller.requested).toBe(0);
    puller.resume();
    await tick();
    expect(nc.open()).toHaveLength(1);
    expect(nc.open()[0]?.batch).toBe(2);
  });

  it('drains open requests on stop and hands back a message that still arrives', async () => {
    const { nc, puller, received } = setup(2);
    puller.resume();
    await tick();
    const [first] = nc.requests as [PullRequestSent];
    await puller.stop();
    expect(nc.subs[0]?.drained).toBe(true);
    nc.deliver(first, 9); // in flight while draining
    expect(received).toHaveLength(0);
    expect(nc.responses).toEqual([{ reply: '$JS.ACK.BATON_TASKS.task_a_b.1.9.9.0.0', payload: '-NAK' }]);
    puller.resume();
    await tick();
    expect(nc.requests).toHaveLength(1);
  });
});
