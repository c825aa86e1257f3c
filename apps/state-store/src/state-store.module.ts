import { Inject, Injectable, Module } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';

import { MetricsService, ServiceEndpoints } from '@baton/service-kit';

import {
  deadLetterRepositoryProvider,
  executionQueryRepositoryProvider,
  historyWriterProvider,
  storageProvider,
} from './database/database.providers';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { DeadLettersHandler } from './dead-letters/dead-letters.handler';
import { DeadLettersService } from './dead-letters/dead-letters.service';
import { ExecutionsController } from './executions/executions.controller';
import { ExecutionsService } from './executions/executions.service';
import { HistoryHandler } from './history/history.handler';
import { HistoryService } from './history/history.service';
import { StateStoreMetrics } from './state-store.metrics';

/** Names of the request-reply mirrors, on `baton.api.state-store.<name>`. */
export const STATE_STORE_ENDPOINTS = {
  EXECUTIONS_LIST: 'executions.list',
  EXECUTIONS_GET: 'executions.get',
  EXECUTIONS_HISTORY: 'executions.history',
  DEAD_LETTERS_LIST: 'dead-letters.list',
  DEAD_LETTERS_RESOLVE: 'dead-letters.resolve',
  DEAD_LETTERS_GET: 'dead-letters.get',
  /** Body `{ id, by? }`. */
  DEAD_LETTERS_REDRIVE: 'dead-letters.redrive',
  /** Body `{ id, reason, by? }`. */
  DEAD_LETTERS_DISCARD: 'dead-letters.discard',
} as const;

/** `{ id, ...body }` of a request to act on one dead letter. */
function splitId(data: unknown): { id: string; body: Record<string, unknown> } {
  const { id, ...body } = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  return { id: typeof id === 'string' ? id : '', body };
}

/** Registers the request-reply mirrors of the HTTP routes. */
@Injectable()
export class StateStoreEndpoints implements OnModuleInit {
  constructor(
    @Inject(ServiceEndpoints) private readonly endpoints: ServiceEndpoints,
    @Inject(ExecutionsService) private readonly executions: ExecutionsService,
    @Inject(DeadLettersService) private readonly deadLetters: DeadLettersService,
  ) {}

  onModuleInit(): void {
    const { endpoints, executions, deadLetters } = this;
    endpoints.add(STATE_STORE_ENDPOINTS.EXECUTIONS_LIST, (data) => executions.list(data));
    endpoints.add(STATE_STORE_ENDPOINTS.EXECUTIONS_GET, (data) => executions.getRequest(data));
    endpoints.add(STATE_STORE_ENDPOINTS.EXECUTIONS_HISTORY, (data) => executions.historyRequest(data));
    endpoints.add(STATE_STORE_ENDPOINTS.DEAD_LETTERS_LIST, (data) => deadLetters.list(data));
    endpoints.add(STATE_STORE_ENDPOINTS.DEAD_LETTERS_RESOLVE, (data) => deadLetters.resolve(data));
    endpoints.add(STATE_STORE_ENDPOINTS.DEAD_LETTERS_GET, (data) => deadLetters.get(data));
    endpoints.add(STATE_STORE_ENDPOINTS.DEAD_LETTERS_REDRIVE, (data) => {
      const { id, body } = splitId(data);
      return deadLetters.redrive(id, body);
    });
    endpoints.add(STATE_STORE_ENDPOINTS.DEAD_LETTERS_DISCARD, (data) => {
      const { id, body } = splitId(data);
      return deadLetters.discard(id, body);
    });
  }
}

/** The state-store: history and dead-letter consumers, execution and dead-letter queries over HTTP and NATS. */
@Module({
  controllers: [ExecutionsController, DeadLettersController, HistoryHandler, DeadLettersHandler],
  providers: [
    {
      provide: StateStoreMetrics,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => new StateStoreMetrics(metrics),
    },
    storageProvider,
    historyWriterProvider,
    executionQueryRepositoryProvider,
    deadLetterRepositoryProvider,
    HistoryService,
    ExecutionsService,
    DeadLettersService,
    StateStoreEndpoints,
  ],
})
export class StateStoreModule {}
