import { Inject, Injectable } from '@nestjs/common';

import type { HistoryEvent } from '@baton/contracts';
import {
  ExecutionQueryRepository,
  type ExecutionListItem,
  type ExecutionRecord,
  type HistoryPage,
  type Page,
} from '@baton/persistence';

import { notFound, parseParams } from '../common/request-params';
import { ExecutionIdDto, HistoryQueryDto, HistoryRequestDto, ListExecutionsQueryDto } from './executions.dto';

/** Execution queries shared by the HTTP routes and their NATS request-reply mirrors; validates parameters. */
@Injectable()
export class ExecutionsService {
  constructor(@Inject(ExecutionQueryRepository) private readonly repository: ExecutionQueryRepository) {}

  /** `GET /v1/executions` / `executions.list`. */
  async list(params: unknown): Promise<Page<ExecutionListItem>> {
    const q = parseParams(ListExecutionsQueryDto, params);
    return this.repository.listExecutions({
      ...(q.workflowId === undefined ? {} : { workflowId: q.workflowId }),
      ...(q.status === undefined ? {} : { status: q.status }),
      ...(q.from === undefined ? {} : { from: new Date(q.from) }),
      ...(q.to === undefined ? {} : { to: new Date(q.to) }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
  }

  /** `GET /v1/executions/:id` / `executions.get`; NOT_FOUND when unknown. */
  async get(id: string): Promise<ExecutionRecord> {
    const execution = await this.repository.getExecution(id);
    if (execution === null) throw notFound(`execution '${id}'`);
    return execution;
  }

  /** `executions.get` over NATS: `{ id }`. */
  getRequest(params: unknown): Promise<ExecutionRecord> {
    return this.get(parseParams(ExecutionIdDto, params).id);
  }

  /** `GET /v1/executions/:id/history`; NOT_FOUND when the execution is unknown. */
  async history(id: string, params: unknown): Promise<HistoryPage<HistoryEvent>> {
    const q = parseParams(HistoryQueryDto, params);
    return this.historyOf(id, q);
  }

  /** `executions.history` over NATS: `{ id, afterSeq?, limit? }`. */
  historyRequest(params: unknown): Promise<HistoryPage<HistoryEvent>> {
    const { id, ...q } = parseParams(HistoryRequestDto, params);
    return this.historyOf(id, q);
  }

  private async historyOf(id: string, q: HistoryQueryDto): Promise<HistoryPage<HistoryEvent>> {
    const page = await this.repository.getHistory(id, {
      ...(q.afterSeq === undefined ? {} : { afterSeq: q.afterSeq }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    });
    if (page === null) throw notFound(`execution '${id}'`);
    return page;
  }
}
