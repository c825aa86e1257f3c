import { ApiPropertyOptional } from '@nestjs/swagger';

/** Body of `POST /v1/workflows/:id/executions`. */
export class StartExecutionDto {
  @ApiPropertyOptional({
    description: 'Input of the execution ($input)',
    type: 'object',
    additionalProperties: true,
  })
  input?: unknown;

  @ApiPropertyOptional({
    description: 'Idempotency: repeating the same id returns the same execution. [A-Za-z0-9_-], at most 128.',
  })
  executionId?: string;

  @ApiPropertyOptional({ description: 'Workflow version; the latest when absent', minimum: 1 })
  version?: number;
}

/** Body of `POST /v1/tasks/:token/complete`. */
export class CompleteTaskDto {
  @ApiPropertyOptional({ description: 'Output of the task', type: 'object', additionalProperties: true })
  output?: unknown;
}

/** Body of `POST /v1/tasks/:token/fail`. */
export class FailTaskDto {
  @ApiPropertyOptional({
    description: 'Error: { type, message, nonRetryable? }',
    type: 'object',
    additionalProperties: true,
  })
  error?: unknown;
}

/** Body of `POST /v1/executions/:id/signals/:name`. */
export class SendSignalDto {
  @ApiPropertyOptional({
    description: 'Payload of the signal (the wait step output)',
    type: 'object',
    additionalProperties: true,
  })
  payload?: unknown;

  @ApiPropertyOptional({
    description: 'De-duplicates repeated sends of one signal; random when absent. At most 256 characters.',
  })
  signalId?: string;
}

/** Body of `POST /v1/executions/:id/terminate`. */
export class TerminateDto {
  @ApiPropertyOptional({ description: 'Why the execution is terminated (recorded in its history)' })
  reason?: string;
}
