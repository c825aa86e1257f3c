import { Inject, Injectable } from '@nestjs/common';

import { BatonError, ErrorCode, isBatonError, validationError } from '@baton/contracts';
import {
  type AnalyticsOutcome,
  type AnalyticsRepository,
  type AnalyticsWriter,
  type StepAnalytics,
  type WorkflowAnalytics,
  toBatonDatabaseError,
} from '@baton/persistence';

import { TelemetryStorage } from '../database/database.providers';
import { TelemetryMetrics } from '../telemetry.metrics';
import { parseAnalyticsParams } from './analytics.params';

/** What the service needs of the storage (fakes in unit tests). */
export interface AnalyticsStoragePort {
  writer: Pick<AnalyticsWriter, 'write'>;
  repository: Pick<AnalyticsRepository, 'listWorkflows' | 'getWorkflow' | 'getSteps'>;
}

/** `{ items }` of `GET /v1/analytics/workflows`. */
export interface WorkflowAnalyticsList {
  items: WorkflowAnalytics[];
}

/** `GET /v1/analytics/workflows/:id/steps`. */
export interface StepAnalyticsList {
  workflowId: string;
  window: string;
  items: StepAnalytics[];
}

/** The consumer's error for a failed batch: non-retryable only when it can never be counted. */
export function toConsumerError(err: unknown): BatonError {
  if (isBatonError(err)) return err;
  return toBatonDatabaseError(err, 'counting history');
}

function notFound(workflowId: string): BatonError {
  return new BatonError(ErrorCode.NOT_FOUND, `no analytics for workflow '${workflowId}'`, {
    retryable: false,
  });
}

/** Counts history batches and answers the analytics queries (HTTP routes and their NATS mirrors). */
@Injectable()
export class AnalyticsService {
  constructor(
    @Inject(TelemetryStorage) private readonly storage: AnalyticsStoragePort,
    @Inject(TelemetryMetrics) private readonly metrics: TelemetryMetrics,
  ) {}

  /** Counts one batch received on `subject` (`baton.history.<executionId>`); resolves once committed. */
  async ingest(data: unknown, subject: string): Promise<AnalyticsOutcome> {
    try {
      const executionId = subject.split('.').slice(2).join('.');
      const claimed = (data as { executionId?: unknown } | null)?.executionId;
      if (typeof data === 'object' && data !== null && claimed !== undefined && claimed !== executionId) {
        throw validationError(
          `history batch of execution ${JSON.stringify(claimed)} published on ${subject}`,
          [{ path: '/executionId', message: `must match the subject (${executionId})`, rule: 'subject' }],
        );
      }
      const outcome = await this.storage.writer.write(data);
      this.metrics.batch(outcome);
      return outcome;
    } catch (err) {
      const error = toConsumerError(err);
      this.metrics.batch(error.retryable ? 'retried' : 'rejected');
      throw error;
    }
  }

  /** `GET /v1/analytics/workflows` / `analytics.workflows`: `{ window? }`. */
  async workflows(params: unknown): Promise<WorkflowAnalyticsList> {
    const { window } = parseAnalyticsParams(params, false);
    return { items: await this.storage.repository.listWorkflows(window) };
  }

  /** `GET /v1/analytics/workflows/:id` / `analytics.workflow`: `{ id, window? }`; NOT_FOUND when unknown. */
  async workflow(params: unknown): Promise<WorkflowAnalytics> {
    const { id, window } = parseAnalyticsParams(params, true);
    const found = await this.storage.repository.getWorkflow(id as string, window);
    if (found === null) throw notFound(id as string);
    return found;
  }

  /** `GET /v1/analytics/workflows/:id/steps` / `analytics.steps`: `{ id, window? }`; NOT_FOUND when unknown. */
  async steps(params: unknown): Promise<StepAnalyticsList> {
    const { id, window } = parseAnalyticsParams(params, true);
    const items = await this.storage.repository.getSteps(id as string, window);
    if (items === null) throw notFound(id as string);
    return { workflowId: id as string, window, items };
  }
}
