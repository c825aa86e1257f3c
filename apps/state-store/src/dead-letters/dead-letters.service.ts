import { Inject, Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';

import { BatonError, ErrorCode } from '@baton/contracts';
import {
  DeadLetterRepository,
  DeadLetterStatus,
  type DeadLetterView,
  type Page,
  parseDeadLetterId,
} from '@baton/persistence';
import { MetricsService } from '@baton/service-kit';
import { JetStreamPublisher, buildRedrive } from '@baton/transport-jetstream';

import { notFound, parseBody, parseParams } from '../common/request-params';
import {
  DeadLetterIdDto,
  DeadLetterKeyDto,
  DiscardDeadLetterDto,
  ListDeadLettersQueryDto,
  RedriveDeadLetterDto,
} from './dead-letters.dto';

/** Who acted when the request names nobody. */
const DEFAULT_ACTOR = 'operator';

/**
 * Dead-letter queries and operator actions (redrive, discard), shared by HTTP and NATS; validates
 * parameters. A redrive re-publishes the original message with `Nats-Msg-Id: redrive:<id>` before the
 * record is marked REDRIVEN, so a redrive interrupted between the two, and repeated, stores the message once
 * (inside the duplicate window) and still ends REDRIVEN.
 */
@Injectable()
export class DeadLettersService {
  private readonly settledTotal: Counter<'status'>;

  constructor(
    @Inject(DeadLetterRepository) private readonly repository: DeadLetterRepository,
    @Inject(JetStreamPublisher) private readonly publisher: Pick<JetStreamPublisher, 'publishRaw'>,
    @Inject(MetricsService) metrics: Pick<MetricsService, 'counter'>,
  ) {
    this.settledTotal = metrics.counter(
      'dead_letters_settled_total',
      'Dead letters an operator re-drove or discarded, by new status',
      ['status'],
    );
  }

  /** `GET /v1/dead-letters` / `dead-letters.list`: DEAD only unless `status` or `includeResolved`. */
  list(params: unknown): Promise<Page<DeadLetterView>> {
    const q = parseParams(ListDeadLettersQueryDto, params);
    if (q.consumer !== undefined && q.durable !== undefined && q.consumer !== q.durable) {
      throw new BatonError(ErrorCode.BAD_REQUEST, "parameters 'consumer' and 'durable' disagree", {
        retryable: false,
        details: [{ path: 'durable', message: 'must equal consumer when both are given', rule: 'conflict' }],
      });
    }
    const consumer = q.consumer ?? q.durable;
    return this.repository.list({
      ...(q.stream === undefined ? {} : { stream: q.stream }),
      ...(consumer === undefined ? {} : { consumer }),
      ...(q.subject === undefined ? {} : { subject: q.subject }),
      ...(q.status === undefined ? {} : { status: q.status }),
      ...(q.includeResolved === undefined ? {} : { includeResolved: q.includeResolved }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
  }

  /** `GET /v1/dead-letters/:id` / `dead-letters.get`. */
  async get(params: unknown): Promise<DeadLetterView> {
    const { id } = parseParams(DeadLetterIdDto, params);
    const found = await this.repository.get(this.key(id));
    if (found === null) throw notFound(`dead letter ${id}`);
    return found;
  }

  /**
   * `POST /v1/dead-letters/:id/redrive` / `dead-letters.redrive`: re-publishes the original message to its
   * subject and marks the dead letter REDRIVEN. CONFLICT when it is not DEAD (already re-driven or
   * discarded) or only a cut copy of its payload was kept.
   */
  async redrive(id: string, body: unknown): Promise<DeadLetterView> {
    const { by } = parseBody(RedriveDeadLetterDto, body);
    const key = this.key(id);
    const letter = await this.repository.get(key);
    if (letter === null) throw notFound(`dead letter ${id}`);
    if (letter.status !== DeadLetterStatus.DEAD) throw this.settled(letter);
    const redrive = buildRedrive(letter, letter.id);
    const ack = await this.publisher.publishRaw(redrive.subject, redrive.data, {
      msgId: redrive.msgId,
      headers: redrive.headers,
    });
    const settled = await this.repository.settle(key, DeadLetterStatus.REDRIVEN, {
      by: by ?? DEFAULT_ACTOR,
      redrive: { msgId: redrive.msgId, streamSequence: ack.seq },
      ...(ack.duplicate ? { reason: 'already re-published under the same message id' } : {}),
    });
    if (settled === null) throw this.settled((await this.repository.get(key)) ?? letter);
    this.settledTotal.inc({ status: DeadLetterStatus.REDRIVEN });
    return settled;
  }

  /** `POST /v1/dead-letters/:id/discard` / `dead-letters.discard`: DISCARDED with a reason. */
  async discard(id: string, body: unknown): Promise<DeadLetterView> {
    const { by, reason } = parseBody(DiscardDeadLetterDto, body);
    const key = this.key(id);
    const settled = await this.repository.settle(key, DeadLetterStatus.DISCARDED, {
      by: by ?? DEFAULT_ACTOR,
      reason,
    });
    if (settled !== null) {
      this.settledTotal.inc({ status: DeadLetterStatus.DISCARDED });
      return settled;
    }
    const letter = await this.repository.get(key);
    if (letter === null) throw notFound(`dead letter ${id}`);
    throw this.settled(letter);
  }

  /**
   * `POST /v1/dead-letters/:stream/:sequence/resolve` / `dead-letters.resolve` (kept for compatibility):
   * discards every DEAD dead letter of that message with reason `resolved`; idempotent.
   */
  async resolve(params: unknown): Promise<DeadLetterView> {
    const { stream, sequence } = parseParams(DeadLetterKeyDto, params);
    const [first] = await this.repository.resolve(stream, sequence, DEFAULT_ACTOR);
    if (first === undefined) throw notFound(`dead letter ${stream}#${sequence}`);
    return first;
  }

  private key(id: string): NonNullable<ReturnType<typeof parseDeadLetterId>> {
    const key = parseDeadLetterId(id);
    if (key === undefined) {
      throw new BatonError(
        ErrorCode.BAD_REQUEST,
        `dead letter id ${JSON.stringify(id.slice(0, 100))} is invalid`,
        {
          retryable: false,
          details: [{ path: 'id', message: 'must be <stream>.<consumer>.<streamSequence>', rule: 'format' }],
        },
      );
    }
    return key;
  }

  private settled(letter: DeadLetterView): BatonError {
    const how = letter.status === DeadLetterStatus.REDRIVEN ? 're-driven' : 'discarded';
    return new BatonError(
      ErrorCode.CONFLICT,
      `dead letter ${letter.id} was already ${how}${letter.resolvedBy === undefined ? '' : ` by ${letter.resolvedBy}`}${letter.resolvedAt === undefined ? '' : ` at ${letter.resolvedAt}`}`,
      { retryable: false, context: { id: letter.id, status: letter.status } },
    );
  }
}
