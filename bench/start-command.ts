import type { JetStreamClient } from '@nats-io/jetstream';

import { PROTOCOL_VERSION, Subjects } from '@baton/contracts';
import type { StartExecutionCommand } from '@baton/contracts';

/**
 * Starts an execution with a start command on `baton.orch.start.<workflowId>` (the path the API and
 * schedules use), so a benchmark chooses the id and can match the completion notice to it.
 */
export async function publishStart(
  js: JetStreamClient,
  workflowId: string,
  executionId: string,
  input: unknown,
  cause: string,
): Promise<void> {
  const command: StartExecutionCommand = {
    protocol: PROTOCOL_VERSION,
    kind: 'start',
    executionId,
    workflowId,
    input,
    cause,
    requestedAt: new Date().toISOString(),
  };
  await js.publish(Subjects.start(workflowId), JSON.stringify(command), { msgID: `start:${executionId}` });
}
