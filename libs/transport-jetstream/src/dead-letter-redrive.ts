import { BatonError, type DeadLetterRecord, ErrorCode } from '@baton/contracts';

/** Header set on a re-driven message: the id of the dead letter it came from. */
export const REDRIVE_OF_HEADER = 'Baton-Redrive-Of';

/** A dead letter's original message, ready to publish again. */
export interface Redrive {
  subject: string;
  /** `redrive:<deadLetterId>`: a second redrive of the same dead letter inside the duplicate window is a duplicate. */
  msgId: string;
  headers: Record<string, string[]>;
  data: Uint8Array;
}

/**
 * The message to re-publish for dead letter `deadLetterId`: the original payload on the original subject
 * with the original headers, except JetStream directives (`Nats-*`: the original `Nats-Msg-Id` would be
 * dropped as a duplicate, `Nats-Expected-*` would no longer hold) and trace context (the publisher injects
 * the current one); plus `Baton-Redrive-Of`. Throws CONFLICT when the payload copy was cut.
 */
export function buildRedrive(record: DeadLetterRecord, deadLetterId: string): Redrive {
  if (record.truncated === true) {
    throw new BatonError(
      ErrorCode.CONFLICT,
      `dead letter ${deadLetterId} cannot be re-driven: only a cut copy of its payload was kept`,
      { retryable: false, context: { deadLetterId } },
    );
  }
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(record.headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith('nats-') || lower === 'traceparent' || lower === 'tracestate') continue;
    if (lower === REDRIVE_OF_HEADER.toLowerCase()) continue;
    headers[name] = values;
  }
  headers[REDRIVE_OF_HEADER] = [deadLetterId];
  return {
    subject: record.subject,
    msgId: `redrive:${deadLetterId}`,
    headers,
    data: new Uint8Array(Buffer.from(record.data, 'base64')),
  };
}
