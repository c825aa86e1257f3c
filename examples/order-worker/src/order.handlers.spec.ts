import type { TaskContext } from '@baton/worker';

import {
  ORDER_HANDLERS,
  chargePayment,
  packItem,
  reserveInventory,
  sendEmail,
  shipOrder,
  stableId,
} from './order.handlers';

function ctx(overrides: Partial<TaskContext> = {}): TaskContext {
  const log = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  return {
    taskId: 'e1.reserve.1',
    executionId: 'e1',
    workflowId: 'order-fulfillment',
    workflowVersion: 1,
    stepId: 'reserve',
    attempt: 1,
    action: 'inventory.reserve',
    idempotencyKey: 'e1:reserve',
    compensation: false,
    deliveryCount: 1,
    token: 't',
    signal: new AbortController().signal,
    log,
    heartbeat: () => undefined,
    ...overrides,
  };
}

describe('order handlers', () => {
  it('serve every action of the demo order workflow, compensations included', () => {
    expect(Object.keys(ORDER_HANDLERS).sort()).toEqual([
      'inventory.release',
      'inventory.reserve',
      'notify.email',
      'payments.charge',
      'payments.refund',
      'shipping.ship',
      'warehouse.pack',
    ]);
  });

  it('derive ids from the idempotency key: the same step gives the same output on every attempt', async () => {
    const first = await reserveInventory({ orderId: 'o-1', items: [1, 2] }, ctx());
    const retry = await reserveInventory(
      { orderId: 'o-1', items: [1, 2] },
      ctx({ attempt: 2, taskId: 'e1.reserve.2' }),
    );
    const other = await reserveInventory({ orderId: 'o-1' }, ctx({ idempotencyKey: 'e2:reserve' }));
    expect(first).toEqual({ reservationId: stableId('res', ctx()), orderId: 'o-1', items: 2 });
    expect(retry).toEqual(first);
    expect(other.reservationId).not.toBe(first.reservationId);
    expect(first.reservationId).toMatch(/^res_[0-9a-f]{16}$/);
  });

  it('fail inventory.reserve with OutOfStock and payments.charge with a non-retryable CardDeclined on request', () => {
    expect(() => reserveInventory({ orderId: 'o', simulate: 'out-of-stock' }, ctx())).toThrow(
      expect.objectContaining({ code: 'OutOfStock' }),
    );
    expect(() => chargePayment({ orderId: 'o', simulate: 'card-declined' }, ctx())).toThrow(
      expect.objectContaining({ type: 'CardDeclined', nonRetryable: true }),
    );
  });

  it('return small plausible outputs', async () => {
    expect(await chargePayment({ total: 99.5 }, ctx())).toMatchObject({ amount: 99.5, currency: 'EUR' });
    expect(await packItem({ item: { sku: 'A' } }, ctx({ itemIndex: 3 }))).toMatchObject({
      item: { sku: 'A' },
      itemIndex: 3,
    });
    expect(await packItem({ sku: 'B' }, ctx())).toMatchObject({ item: { sku: 'B' }, itemIndex: null });
    expect((await shipOrder({}, ctx())).trackingNumber).toMatch(/^TRK_[0-9A-F]{16}$/);
    expect(await sendEmail({ email: 'a@b.c' }, ctx())).toMatchObject({ to: 'a@b.c' });
    expect(await reserveInventory('not an object', ctx())).toMatchObject({ orderId: null, items: 0 });
  });
});
