import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

import { KvBuckets, Streams, Subjects, isBatonError } from '@baton/contracts';
import {
  BATON_CONFIG,
  MetricsService,
  NATS_CONNECTION,
  ReadinessRegistry,
  ServiceEndpoints,
} from '@baton/service-kit';
import type { ServiceDescriptor } from '@baton/service-kit';
import { BATON_STREAMS, JetStreamPublisher } from '@baton/transport-jetstream';
import { ExpressionEvaluator } from '@baton/workflow';

import type { OrchestratorConfig } from './config/orchestrator.config';
import { WorkflowRegistry } from './definitions/workflow-registry';
import { WorkflowsController } from './definitions/workflows.controller';
import { WorkflowsService } from './definitions/workflows.service';
import { ExecutionEngine } from './executions/execution-engine';
import { ExecutionRunner } from './executions/execution-runner';
import { ExecutionStore } from './executions/execution-store';
import { ExecutionsController } from './executions/executions.controller';
import { ExecutionsService } from './executions/executions.service';
import { EventWaitsIndex } from './executions/event-waits';
import { ProcessFaultPoints } from './executions/fault-points';
import { OrchestratorHandler } from './executions/orchestrator.handler';
import { Redriver } from './executions/redrive';
import type { TaskBacklog } from './executions/redrive';
import { TriggersHandler } from './executions/triggers.handler';
import { OrchestratorMetrics } from './orchestrator.metrics';
import { CircuitBreaker } from './circuits/circuit-breaker';
import { CircuitsModule } from './circuits/circuits.module';
import { PoliciesModule } from './policies/policies.module';
import { Router } from './routing/routing';
import { WorkerLiveness } from './routing/worker-liveness';
import { PolicyRegistry } from './policies/policy-registry';
import {
  EXECUTIONS_KV,
  EXPRESSION_EVALUATOR,
  ORCHESTRATOR_METRICS,
  OUTBOX_PUBLISHER,
  WAITS_KV,
  WORKFLOWS_KV,
} from './orchestrator.tokens';

export const ORCHESTRATOR_SERVICE: ServiceDescriptor = {
  name: 'orchestrator',
  version: '0.1.0',
  defaultPort: 8081,
  description:
    'Turns workflow definitions and events into executions: tasks for workers, history, completion events',
};

/** Streams the orchestrator writes to or reads from. */
export const ORCHESTRATOR_STREAMS = [
  BATON_STREAMS.EVENTS,
  BATON_STREAMS.TASKS,
  BATON_STREAMS.ORCH,
  BATON_STREAMS.HISTORY,
  BATON_STREAMS.NOTIFY,
  BATON_STREAMS.DLQ,
  BATON_STREAMS.DECISIONS,
  BATON_STREAMS.SCHED,
  BATON_STREAMS.ALERTS,
];

/** Starts the registry watch, the re-drive sweep, readiness checks and the request-reply mirrors. */
@Injectable()
class OrchestratorLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Orchestrator');
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;

  constructor(
    @Inject(BATON_CONFIG) private readonly config: OrchestratorConfig,
    @Inject(WorkflowRegistry) private readonly registry: WorkflowRegistry,
    @Inject(Redriver) private readonly redriver: Redriver,
    @Inject(EXPRESSION_EVALUATOR) private readonly evaluator: ExpressionEvaluator,
    @Inject(ReadinessRegistry) readiness: ReadinessRegistry,
    @Inject(ServiceEndpoints) endpoints: ServiceEndpoints,
    @Inject(WorkflowsService) workflows: WorkflowsService,
    @Inject(ExecutionsService) executions: ExecutionsService,
    @Inject(WORKFLOWS_KV) workflowsKv: KV,
    @Inject(EXECUTIONS_KV) executionsKv: KV,
  ) {
    readiness.add('kv', async () => {
      await Promise.all([workflowsKv.status(), executionsKv.status()]);
    });
    endpoints.add('workflows-register', async (data) => {
      const { outcome, workflow } = await workflows.register(data);
      return { ...workflow, outcome };
    });
    endpoints.add('workflows-list', () => Promise.resolve({ items: workflows.list() }));
    endpoints.add('workflows-get', async (data) => {
      const { id, version } = (data ?? {}) as { id?: string; version?: number };
      return workflows.get(String(id ?? ''), version);
    });
    endpoints.add('executions-start', async (data) => {
      const { workflowId, ...request } = (data ?? {}) as {
        workflowId?: string;
        input?: unknown;
        executionId?: string;
        version?: number;
      };
      return executions.startFromApi(String(workflowId ?? ''), request);
    });
    endpoints.add('executions-get', async (data) =>
      executions.get(String((data as { id?: string } | null)?.id ?? '')),
    );
    endpoints.add('executions-signal', async (data) => {
      const { id, name, payload, signalId } = (data ?? {}) as {
        id?: string;
        name?: string;
        payload?: unknown;
        signalId?: string;
      };
      return executions.sendSignal(String(id ?? ''), String(name ?? ''), {
        ...(payload !== undefined ? { payload } : {}),
        ...(signalId !== undefined ? { signalId: String(signalId) } : {}),
      });
    });
    endpoints.add('executions-terminate', async (data) => {
      const { id, reason } = (data ?? {}) as { id?: string; reason?: string };
      return executions.terminate(String(id ?? ''), String(reason ?? 'terminated by an operator'));
    });
    endpoints.add('executions-retry', async (data) =>
      executions.retry(String((data as { id?: string } | null)?.id ?? '')),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.registry.start();
    const interval = this.config.BATON_REDRIVE_INTERVAL_MS;
    if (interval > 0) {
      this.sweepTimer = setInterval(() => void this.sweep(), interval);
      this.sweepTimer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.registry.stop();
    await this.evaluator.close();
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const report = await this.redriver.sweep();
      if (report.stale > 0) this.logger.log(report, 're-drive sweep');
    } catch (err) {
      this.logger.warn(`re-drive sweep failed: ${isBatonError(err) ? err.message : String(err)}`);
    } finally {
      this.sweeping = false;
    }
  }
}

/** The orchestrator's own controllers, handlers and providers (the common surface comes from service-kit). */
@Module({
  imports: [PoliciesModule, CircuitsModule],
  controllers: [WorkflowsController, ExecutionsController, OrchestratorHandler, TriggersHandler],
  providers: [
    {
      provide: WORKFLOWS_KV,
      inject: [NATS_CONNECTION],
      useFactory: (nc: NatsConnection) => new Kvm(nc).create(KvBuckets.WORKFLOWS, { history: 5 }),
    },
    {
      provide: EXECUTIONS_KV,
      inject: [NATS_CONNECTION],
      useFactory: (nc: NatsConnection) => new Kvm(nc).create(KvBuckets.EXECUTIONS, { history: 1 }),
    },
    {
      provide: WAITS_KV,
      inject: [NATS_CONNECTION],
      useFactory: (nc: NatsConnection) => new Kvm(nc).create(KvBuckets.WAITS, { history: 1 }),
    },
    EventWaitsIndex,
    {
      provide: WorkflowRegistry,
      inject: [WORKFLOWS_KV],
      useFactory: (kv: KV) => new WorkflowRegistry(kv),
    },
    {
      provide: ExecutionStore,
      inject: [EXECUTIONS_KV, BATON_CONFIG],
      useFactory: (kv: KV, config: OrchestratorConfig) =>
        new ExecutionStore(kv, config.BATON_EXECUTION_CACHE_SIZE),
    },
    {
      provide: EXPRESSION_EVALUATOR,
      inject: [BATON_CONFIG],
      useFactory: (config: OrchestratorConfig) =>
        new ExpressionEvaluator({
          timeoutMs: config.BATON_EXPR_TIMEOUT_MS,
          maxMemoryMb: config.BATON_EXPR_MEMORY_MB,
          poolSize: config.BATON_EXPR_POOL_SIZE,
        }),
    },
    {
      provide: ExecutionEngine,
      inject: [EXPRESSION_EVALUATOR, BATON_CONFIG, PolicyRegistry, CircuitBreaker, WorkerLiveness],
      useFactory: (
        evaluator: ExpressionEvaluator,
        config: OrchestratorConfig,
        policies: PolicyRegistry,
        circuits: CircuitBreaker,
        liveness: WorkerLiveness,
      ) => {
        const router = new Router();
        return new ExecutionEngine({
          evaluator,
          policies,
          chooseRoute: (routing, ctx) => router.choose(routing, ctx),
          isLive: (action) => liveness.isLive(action),
          ...(circuits.enabled ? { circuits } : {}),
          maxOutputBytes: config.BATON_MAX_OUTPUT_BYTES,
          maxStateBytes: config.BATON_MAX_STATE_BYTES,
          defaultRetryPolicy: {
            maxAttempts: config.BATON_DEFAULT_MAX_ATTEMPTS,
            initialIntervalMs: config.BATON_DEFAULT_RETRY_INITIAL_MS,
            maxIntervalMs: config.BATON_DEFAULT_RETRY_MAX_MS,
          },
        });
      },
    },
    {
      provide: WorkerLiveness,
      inject: [NATS_CONNECTION],
      useFactory: (nc: NatsConnection) => {
        const liveness = new WorkerLiveness();
        liveness.start(nc);
        return liveness;
      },
    },
    { provide: OUTBOX_PUBLISHER, useExisting: JetStreamPublisher },
    {
      provide: ORCHESTRATOR_METRICS,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => new OrchestratorMetrics(metrics.registry),
    },
    {
      provide: ExecutionRunner,
      inject: [ExecutionStore, ExecutionEngine, WorkflowRegistry, JetStreamPublisher, BATON_CONFIG],
      useFactory: (
        store: ExecutionStore,
        engine: ExecutionEngine,
        registry: WorkflowRegistry,
        publisher: JetStreamPublisher,
        config: OrchestratorConfig,
      ) =>
        new ExecutionRunner(store, engine, registry, publisher, new ProcessFaultPoints(config.BATON_FAULTS)),
    },
    {
      provide: Redriver,
      inject: [ExecutionStore, JetStreamPublisher, NATS_CONNECTION, BATON_CONFIG],
      useFactory: (
        store: ExecutionStore,
        publisher: JetStreamPublisher,
        nc: NatsConnection,
        config: OrchestratorConfig,
      ) => new Redriver(store, publisher, taskBacklog(nc), { staleAfterMs: config.BATON_REDRIVE_AFTER_MS }),
    },
    ExecutionsService,
    WorkflowsService,
    OrchestratorLifecycle,
  ],
})
export class OrchestratorModule {}

/** Messages per subject in the task stream, read with `subjects_filter` from the stream info. */
function taskBacklog(nc: NatsConnection): TaskBacklog {
  return {
    async countsBySubject() {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(Streams.TASKS, { subjects_filter: Subjects.tasksAll });
      return new Map(Object.entries(info.state.subjects ?? {}));
    },
  };
}
