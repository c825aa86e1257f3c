import { isBatonError } from '@baton/contracts';

import { isTimerSubject, parseTimerRequest, toTimerView } from './timer-request';

const NOW = Date.UTC(2026, 5, 1, 12);

function errorOf(fn: () => unknown): { code: string; paths: string[] } {
  try {
    fn();
  } catch (err) {
    if (!isBatonError(err)) throw err;
    return { code: err.code, paths: err.details.map((d) => d.path) };
  }
  throw new Error('expected an error');
}

describe('parseTimerRequest', () => {
  it('computes dueAt from delaySeconds and keeps subject, payload, id and headers', () => {
    const t = parseTimerRequest(
      {
        delaySeconds: 1.5,
        subject: 'events.order.reminder',
        payload: { n: 1 },
        id: 'r-1',
        headers: { 'X-A': 'b' },
      },
      NOW,
    );
    expect(t).toEqual({
      id: 'r-1',
      dueAt: new Date(NOW + 1_500),
      subject: 'events.order.reminder',
      payload: { n: 1 },
      headers: { 'X-A': 'b' },
      createdAt: new Date(NOW),
    });
  });

  it('accepts an absolute `at`, also in the past (fires at once), and generates an id', () => {
    const t = parseTimerRequest({ at: '2026-01-01T00:00:00Z', subject: 'baton.orch.start.wf-1' }, NOW);
    expect(t.dueAt).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(t.id).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    expect(t.payload).toBeNull();
  });

  it.each([
    ['baton.tasks.payments.charge'],
    ['baton.events.execution.x.completed'],
    ['events.*'],
    ['events.>'],
    ['events'],
    ['orders.created'],
    ['events..x'],
  ])('rejects subject %s with 422 naming subject', (subject) => {
    expect(errorOf(() => parseTimerRequest({ delaySeconds: 1, subject }, NOW))).toEqual({
      code: 'VALIDATION_FAILED',
      paths: ['/subject'],
    });
  });

  it('names each bad field', () => {
    expect(errorOf(() => parseTimerRequest({ subject: 'events.a' }, NOW)).paths).toEqual(['/delaySeconds']);
    expect(errorOf(() => parseTimerRequest({ delaySeconds: -1, subject: 'events.a' }, NOW)).paths).toEqual([
      '/delaySeconds',
    ]);
    expect(
      errorOf(() =>
        parseTimerRequest({ delaySeconds: 1, at: '2026-01-01T00:00:00Z', subject: 'events.a' }, NOW),
      ).paths,
    ).toEqual(['/at']);
    expect(errorOf(() => parseTimerRequest({ at: 'tomorrow', subject: 'events.a' }, NOW)).paths).toEqual([
      '/at',
    ]);
    expect(
      errorOf(() => parseTimerRequest({ delaySeconds: 1, subject: 'events.a', id: 'a.b', extra: 1 }, NOW))
        .paths,
    ).toEqual(['/extra', '/id']);
    expect(
      errorOf(() =>
        parseTimerRequest({ delaySeconds: 1, subject: 'events.a', headers: { 'Nats-Msg-Id': 'x' } }, NOW),
      ).paths,
    ).toEqual(['/headers/Nats-Msg-Id']);
    expect(errorOf(() => parseTimerRequest([], NOW)).code).toBe('VALIDATION_FAILED');
  });

  it('isTimerSubject allows concrete subjects under events.> and baton.orch.> only', () => {
    expect(isTimerSubject('events.a.b')).toBe(true);
    expect(isTimerSubject('baton.orch.result.e-1')).toBe(true);
    expect(isTimerSubject('baton.orch')).toBe(false);
  });
});

describe('toTimerView', () => {
  it('derives the status', () => {
    const base = {
      id: 't',
      dueAt: new Date(NOW),
      subject: 'events.a',
      payload: 1,
      headers: {},
      createdAt: new Date(NOW),
      firedAt: null,
      cancelledAt: null,
    };
    expect(toTimerView(base).status).toBe('PENDING');
    expect(toTimerView({ ...base, firedAt: new Date(NOW) })).toMatchObject({
      status: 'FIRED',
      firedAt: new Date(NOW).toISOString(),
    });
    expect(toTimerView({ ...base, cancelledAt: new Date(NOW) }).status).toBe('CANCELLED');
  });
});
