import { Inject, Injectable } from '@nestjs/common';

import { DeadLetterRepository, type DeadLetterView, type Page } from '@baton/persistence';

import { notFound, parseParams } from '../common/request-params';
import { DeadLetterKeyDto, ListDeadLettersQueryDto } from './dead-letters.dto';

/** Dead-letter queries and resolution, shared by HTTP and NATS; validates parameters. */
@Injectable()
export class DeadLettersService {
  constructor(@Inject(DeadLetterRepository) private readonly repository: DeadLetterRepository) {}

  /** `GET /v1/dead-letters` / `dead-letters.list`: unresolved only unless `includeResolved`. */
  list(params: unknown): Promise<Page<DeadLetterView>> {
    const q = parseParams(ListDeadLettersQueryDto, params);
    return this.repository.list({
      ...(q.stream === undefined ? {} : { stream: q.stream }),
      ...(q.consumer === undefined ? {} : { consumer: q.consumer }),
      ...(q.includeResolved === undefined ? {} : { includeResolved: q.includeResolved }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
  }

  /** `POST /v1/dead-letters/:stream/:sequence/resolve` / `dead-letters.resolve`; NOT_FOUND when unknown. */
  async resolve(params: unknown): Promise<DeadLetterView> {
    const { stream, sequence } = parseParams(DeadLetterKeyDto, params);
    const resolved = await this.repository.resolve(stream, sequence);
    if (resolved === null) throw notFound(`dead letter ${stream}#${sequence}`);
    return resolved;
  }
}
