import { MAX_ID_LENGTH, RoutingStrategy, STEP_ID, StepType, WORKFLOW_ID } from '@baton/contracts';

/** Largest number of steps in one definition. */
export const MAX_STEPS = 500;
/** Largest number of dependencies of one step. */
export const MAX_DEPENDENCIES = 100;
/** Largest number of triggers of one definition. */
export const MAX_TRIGGERS = 20;

/**
 * Shape of a workflow definition (JSON Schema draft-07, for ajv in strict mode). Field values that need code
 * (actions, cron, time zones, subjects, expressions) and the graph are checked by `validateDefinition`.
 * Two annotation keywords name the failed rule and phrase its message: `ruleName`, `ruleMessage`.
 */
export const DEFINITION_SCHEMA = {
  type: 'object',
  required: ['id', 'version', 'steps'],
  additionalProperties: false,
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_ID_LENGTH,
      pattern: WORKFLOW_ID.source,
      ruleName: 'workflowId',
      ruleMessage: `must be 1-${MAX_ID_LENGTH} characters of [a-z0-9-], starting and ending with a letter or digit`,
    },
    name: { type: 'string', maxLength: 256 },
    description: { type: 'string', maxLength: 4096 },
    version: {
      type: 'integer',
      minimum: 1,
      maximum: 2147483647,
      ruleName: 'version',
      ruleMessage: 'must be a positive integer',
    },
    triggers: {
      type: 'array',
      maxItems: MAX_TRIGGERS,
      ruleName: 'limit',
      ruleMessage: `at most ${MAX_TRIGGERS} triggers`,
      items: { $ref: '#/definitions/trigger' },
    },
    policies: {
      type: 'array',
      maxItems: 100,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
    },
    output: {},
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_STEPS,
      ruleName: 'limit',
      ruleMessage: `needs 1 to ${MAX_STEPS} steps`,
      items: { $ref: '#/definitions/step' },
    },
    queries: {
      type: 'object',
      maxProperties: 100,
      propertyNames: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '^[A-Za-z0-9_-]+$' },
      additionalProperties: { type: 'string' },
    },
    budget: {
      type: 'object',
      required: ['limit'],
      additionalProperties: false,
      properties: { limit: { type: 'number', minimum: 0 } },
    },
    rules: { enum: ['pinned', 'latest'] },
  },
  definitions: {
    trigger: {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { enum: ['event', 'cron'] },
        subject: { type: 'string' },
        condition: { type: 'object' },
        input: {},
        key: { type: 'string' },
        expression: { type: 'string' },
        timezone: { type: 'string' },
        overlap: { enum: ['skip', 'allow'] },
      },
      allOf: [
        {
          if: { type: 'object', required: ['type'], properties: { type: { const: 'event' } } },
          then: {
            required: ['subject'],
            properties: { subject: {}, expression: false, timezone: false, overlap: false },
          },
        },
        {
          if: { type: 'object', required: ['type'], properties: { type: { const: 'cron' } } },
          then: {
            required: ['expression'],
            properties: { expression: {}, subject: false, condition: false, key: false },
          },
        },
      ],
    },
    retryPolicy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
        initialIntervalMs: { type: 'number', minimum: 0 },
        backoffCoefficient: { type: 'number', minimum: 1 },
        maxIntervalMs: { type: 'number', minimum: 0 },
        jitter: { type: 'boolean' },
        nonRetryableErrors: {
          type: 'array',
          maxItems: 100,
          items: { type: 'string', minLength: 1, maxLength: 256 },
        },
      },
    },
    step: {
      type: 'object',
      required: ['id', 'type'],
      additionalProperties: false,
      properties: {
        id: {
          type: 'string',
          minLength: 1,
          maxLength: MAX_ID_LENGTH,
          pattern: STEP_ID.source,
          ruleName: 'stepId',
          ruleMessage: `must be 1-${MAX_ID_LENGTH} characters of [A-Za-z0-9_-], starting with a letter`,
        },
        type: { enum: Object.values(StepType) },
        name: { type: 'string', maxLength: 256 },
        action: { type: 'string' },
        parameters: { type: 'object' },
        dependencies: {
          type: 'array',
          maxItems: MAX_DEPENDENCIES,
          uniqueItems: true,
          items: { type: 'string' },
        },
        join: { enum: ['all', 'any'] },
        retryPolicy: { $ref: '#/definitions/retryPolicy' },
        timeoutSeconds: { type: 'number', exclusiveMinimum: 0 },
        compensation: {
          type: 'object',
          required: ['action'],
          additionalProperties: false,
          properties: { action: { type: 'string' }, parameters: { type: 'object' } },
        },
        branches: {
          type: 'object',
          minProperties: 1,
          maxProperties: 100,
          ruleName: 'branches',
          propertyNames: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
          additionalProperties: {
            type: 'array',
            maxItems: MAX_STEPS,
            uniqueItems: true,
            items: { type: 'string' },
          },
        },
        policy: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
        routing: {
          type: 'object',
          required: ['strategy', 'candidates'],
          additionalProperties: false,
          properties: {
            strategy: { enum: Object.values(RoutingStrategy) },
            candidates: {
              type: 'array',
              minItems: 1,
              maxItems: 32,
              items: {
                type: 'object',
                required: ['action'],
                additionalProperties: false,
                properties: {
                  action: { type: 'string' },
                  weight: { type: 'number', exclusiveMinimum: 0 },
                  cost: { type: 'number', minimum: 0 },
                  benefit: { type: 'number', minimum: 0 },
                },
              },
            },
          },
        },
      },
      allOf: [
        stepType(StepType.TASK, { required: [], properties: { branches: false } }),
        stepType(StepType.PARALLEL, {
          required: ['action', 'parameters'],
          properties: {
            branches: false,
            compensation: false,
            parameters: {
              type: 'object',
              required: ['items'],
              properties: {
                items: { type: ['array', 'string'] },
                maxConcurrency: { type: 'integer', minimum: 1, maximum: 1000 },
              },
            },
          },
        }),
        stepType(StepType.DECISION, {
          required: ['action', 'branches'],
          properties: { compensation: false },
        }),
        stepType(StepType.SUBWORKFLOW, {
          required: ['action'],
          properties: {
            branches: false,
            compensation: false,
            parameters: { type: 'object', properties: { version: { type: 'integer', minimum: 1 } } },
          },
        }),
        stepType(StepType.WAIT, {
          required: ['parameters'],
          properties: {
            action: false,
            branches: false,
            compensation: false,
            retryPolicy: false,
            timeoutSeconds: false,
            parameters: {
              type: 'object',
              additionalProperties: false,
              properties: {
                seconds: { type: ['number', 'string'] },
                until: { type: 'string' },
                signal: { type: 'string' },
                event: { type: 'string' },
                condition: { type: 'object' },
                timeoutSeconds: { type: ['number', 'string'] },
              },
            },
          },
        }),
        stepType(StepType.EMIT, {
          required: ['parameters'],
          properties: {
            action: false,
            branches: false,
            compensation: false,
            retryPolicy: false,
            timeoutSeconds: false,
            parameters: {
              type: 'object',
              required: ['subject', 'payload'],
              additionalProperties: false,
              properties: { subject: { type: 'string' }, payload: {} },
            },
          },
        }),
      ],
    },
  },
} as const;

/**
 * `if type = <type> then <then>`. Each required field also gets an (empty) entry in `then.properties`, as
 * ajv's strictRequired wants every required field declared where it is required.
 */
function stepType(
  type: string,
  then: { required: string[]; properties: Record<string, unknown> },
): Record<string, unknown> {
  const properties: Record<string, unknown> = { ...then.properties };
  for (const field of then.required) if (!(field in properties)) properties[field] = {};
  return {
    if: { type: 'object', required: ['type'], properties: { type: { const: type } } },
    then: { type: 'object', required: then.required, properties },
  };
}
