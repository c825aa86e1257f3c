/** NATS header names used by Baton. */
export const Headers = {
  /** JetStream de-duplication id. */
  MSG_ID: 'Nats-Msg-Id',
  TRACEPARENT: 'traceparent',
  TRACESTATE: 'tracestate',
  EXECUTION_ID: 'Baton-Execution-Id',
  WORKFLOW_ID: 'Baton-Workflow-Id',
  STEP_ID: 'Baton-Step-Id',
  ATTEMPT: 'Baton-Attempt',
  /** Set on dead letters: where the message came from and why it died. */
  DLQ_STREAM: 'Baton-Dlq-Stream',
  DLQ_CONSUMER: 'Baton-Dlq-Consumer',
  DLQ_SUBJECT: 'Baton-Dlq-Subject',
  DLQ_SEQUENCE: 'Baton-Dlq-Sequence',
  DLQ_DELIVERIES: 'Baton-Dlq-Deliveries',
  DLQ_ERROR_CODE: 'Baton-Dlq-Error-Code',
  DLQ_ERROR: 'Baton-Dlq-Error',
  /** Request-reply errors (NATS micro convention). */
  SERVICE_ERROR: 'Nats-Service-Error',
  SERVICE_ERROR_CODE: 'Nats-Service-Error-Code',
} as const;
