import type { WorkflowDefinition } from '@baton/contracts';

/** The example of CONTRACT §3, as YAML text (used by the specs). */
export const EXAMPLE_YAML = `
id: order-fulfillment          # [a-z0-9-]+
name: Order fulfillment
version: 3
triggers:
  - type: event
    subject: events.order.created
    condition:
      all: [{ fact: event, path: $.total, operator: greaterThan, value: 0 }]
    input: "{% { 'orderId': $event.id, 'total': $event.total } %}"
    key: "{% $event.id %}"
  - type: cron
    expression: "0 */6 * * *"
    timezone: UTC
    input: { sweep: true }
policies: [default-retry]
output: "{% $steps.ship.output %}"
steps:
  - id: reserve
    type: task
    action: inventory.reserve
    parameters: { orderId: "{% $input.orderId %}" }
    retryPolicy: { maxAttempts: 5, initialIntervalMs: 200, backoffCoefficient: 2, maxIntervalMs: 10000, jitter: true, nonRetryableErrors: [OutOfStock] }
    timeoutSeconds: 30
    compensation: { action: inventory.release, parameters: { orderId: "{% $input.orderId %}" } }
  - id: fraud
    type: decision
    action: fraud-policy
    parameters: { total: "{% $input.total %}", country: "{% $input.country %}" }
    dependencies: [reserve]
    branches: { approve: [charge], review: [manual-review], default: [charge] }
  - id: manual-review
    type: wait
    parameters: { signal: reviewed, timeoutSeconds: 86400 }
    dependencies: [fraud]
  - id: charge
    type: task
    action: payments.charge
    dependencies: [fraud, manual-review]
    join: any
    compensation: { action: payments.refund }
  - id: pack-items
    type: parallel
    action: warehouse.pack
    parameters: { items: "{% $input.items %}", maxConcurrency: 10 }
    dependencies: [charge]
  - id: ship
    type: subworkflow
    action: shipping
    dependencies: [pack-items]
  - id: cool-off
    type: wait
    parameters: { seconds: 60 }
    dependencies: [ship]
  - id: announce
    type: emit
    parameters: { subject: events.order.fulfilled, payload: "{% { 'orderId': $input.orderId } %}" }
    dependencies: [cool-off]
queries:
  progress: "{% $count($steps.*[status='COMPLETED']) %}"
`;

/** A small valid definition to derive broken ones from. */
export function minimalDefinition(): WorkflowDefinition {
  return {
    id: 'demo',
    version: 1,
    steps: [
      { id: 'a', type: 'task', action: 'svc.a' },
      { id: 'b', type: 'task', action: 'svc.b', dependencies: ['a'] },
    ],
  };
}
