import { WorkerPresence } from './worker.presence';
import type { PresenceTimers } from './worker.presence';

class FakeTimers implements PresenceTimers {
  fn: (() => void) | undefined;
  ms: number | undefined;
  cleared = false;
  setInterval(fn: () => void, ms: number): unknown {
    this.fn = fn;
    this.ms = ms;
    return 1;
  }
  clearInterval(): void {
    this.cleared = true;
  }
}

describe('WorkerPresence', () => {
  const decoder = new TextDecoder();

  function setup() {
    const sent: { subject: string; body: unknown }[] = [];
    const timers = new FakeTimers();
    const presence = new WorkerPresence({
      name: 'billing-1',
      actions: ['payments.charge', 'payments.refund'],
      concurrency: 8,
      version: '0.1.0',
      workerId: 'w-1',
      timers,
      now: () => new Date('2026-06-01T00:00:00.000Z'),
      publish: (subject, data) => sent.push({ subject, body: JSON.parse(decoder.decode(data)) }),
    });
    return { sent, timers, presence };
  }

  it('announces on start with who it is, then repeats it as a heartbeat every 5 s', () => {
    const { sent, timers, presence } = setup();
    presence.start();
    const announcement = {
      workerId: 'w-1',
      name: 'billing-1',
      actions: ['payments.charge', 'payments.refund'],
      concurrency: 8,
      version: '0.1.0',
      startedAt: '2026-06-01T00:00:00.000Z',
      hostname: expect.any(String),
      pid: process.pid,
    };
    expect(sent).toEqual([{ subject: 'baton.workers.announce', body: announcement }]);
    expect(timers.ms).toBe(5_000);
    timers.fn?.();
    timers.fn?.();
    expect(sent.slice(1)).toEqual([
      { subject: 'baton.workers.heartbeat.w-1', body: announcement },
      { subject: 'baton.workers.heartbeat.w-1', body: announcement },
    ]);
  });

  it('says goodbye on stop, once, and only when started', () => {
    const { sent, timers, presence } = setup();
    presence.stop();
    expect(sent).toEqual([]);
    presence.start();
    presence.stop();
    presence.stop();
    expect(timers.cleared).toBe(true);
    expect(sent.map((s) => s.subject)).toEqual(['baton.workers.announce', 'baton.workers.goodbye.w-1']);
    expect(sent[1].body).toEqual({ workerId: 'w-1' });
  });

  it('survives a failing publish (presence is best effort)', () => {
    const errors: unknown[] = [];
    const presence = new WorkerPresence({
      name: 'n',
      actions: ['a'],
      concurrency: 1,
      version: '0.1.0',
      timers: new FakeTimers(),
      publish: () => {
        throw new Error('closed');
      },
      onError: (err) => errors.push(err),
    });
    expect(() => presence.start()).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(presence.announcement.workerId).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
