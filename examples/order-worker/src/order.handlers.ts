import { createHash } from 'node:crypto';

import { NonRetryableError, type TaskContext, type TaskHandler } from '@baton/worker';

/**
 * Handlers of the demo order workflow. They stand in for real systems (inventory, payment provider,
 * warehouse, carrier, mailer): every id they return is derived from the task's idempotency key, so running
 * a task twice yields the same output, as a real idempotent integration would.
 *
 * Inputs are the step parameters of the workflow; fields are optional so the handlers accept the shapes
 * the demo sends. Set `simulate` in an order to see the failure paths:
 * - `out-of-stock`: inventory.reserve fails with `OutOfStock` (a retry policy may list it as non-retryable);
 * - `card-declined`: payments.charge fails with `CardDeclined`, non-retryable (compensation runs).
 */
export interface OrderInput {
  orderId?: string;
  total?: number;
  currency?: string;
  email?: string;
  items?: unknown[];
  simulate?: 'out-of-stock' | 'card-declined';
}

/** A short stable id: `<prefix>_<first 16 hex chars of sha256(idempotency key)>`. */
export function stableId(prefix: string, ctx: Pick<TaskContext, 'idempotencyKey'>): string {
  return `${prefix}_${createHash('sha256').update(ctx.idempotencyKey).digest('hex').slice(0, 16)}`;
}

function asOrder(input: unknown): OrderInput {
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as OrderInput) : {};
}

export const reserveInventory: TaskHandler<
  unknown,
  { reservationId: string; orderId: string | null; items: number }
> = (input, ctx) => {
  const order = asOrder(input);
  if (order.simulate === 'out-of-stock') {
    throw Object.assign(new Error(`order ${order.orderId ?? '?'}: an item is out of stock`), {
      code: 'OutOfStock',
    });
  }
  ctx.log.info({ orderId: order.orderId }, 'inventory reserved');
  return {
    reservationId: stableId('res', ctx),
    orderId: order.orderId ?? null,
    items: Array.isArray(order.items) ? order.items.length : 0,
  };
};

export const releaseInventory: TaskHandler<unknown, { released: true; orderId: string | null }> = (
  input,
  ctx,
) => {
  const order = asOrder(input);
  ctx.log.info({ orderId: order.orderId }, 'inventory released');
  return { released: true, orderId: order.orderId ?? null };
};

export const chargePayment: TaskHandler<unknown, { chargeId: string; amount: number; currency: string }> = (
  input,
  ctx,
) => {
  const order = asOrder(input);
  if (order.simulate === 'card-declined') {
    throw new NonRetryableError('CardDeclined', `card declined for order ${order.orderId ?? '?'}`, {
      declineCode: 'insufficient_funds',
    });
  }
  return {
    chargeId: stableId('ch', ctx),
    amount: typeof order.total === 'number' ? order.total : 0,
    currency: order.currency ?? 'EUR',
  };
};

export const refundPayment: TaskHandler<unknown, { refundId: string }> = (_input, ctx) => ({
  refundId: stableId('re', ctx),
});

/** One task per item of the parallel `pack-items` step: the input is the item (or `{ item }`). */
export const packItem: TaskHandler<
  unknown,
  { packageId: string; item: unknown; itemIndex: number | null }
> = (input, ctx) => ({
  packageId: stableId('pkg', ctx),
  item:
    typeof input === 'object' && input !== null && 'item' in input
      ? (input as { item: unknown }).item
      : input,
  itemIndex: ctx.itemIndex ?? null,
});

export const shipOrder: TaskHandler<unknown, { trackingNumber: string; carrier: string }> = (
  _input,
  ctx,
) => ({
  trackingNumber: stableId('TRK', ctx).toUpperCase(),
  carrier: 'baton-express',
});

export const sendEmail: TaskHandler<unknown, { messageId: string; to: string }> = (input, ctx) => {
  const order = asOrder(input);
  return { messageId: `<${stableId('msg', ctx)}@orders.example>`, to: order.email ?? 'customer@example.com' };
};

/** Action -> handler, as registered by main.ts. */
export const ORDER_HANDLERS: Readonly<Record<string, TaskHandler>> = {
  'inventory.reserve': reserveInventory,
  'inventory.release': releaseInventory,
  'payments.charge': chargePayment,
  'payments.refund': refundPayment,
  'warehouse.pack': packItem,
  'shipping.ship': shipOrder,
  'notify.email': sendEmail,
};
