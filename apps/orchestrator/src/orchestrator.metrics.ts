import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

import type { ExecutionRecord, StepRecord } from './executions/execution.model';

/** Execution metrics of the orchestrator (labels are low-cardinality: never execution ids). */
export class OrchestratorMetrics {
  private readonly startedTotal: Counter<'workflow'>;
  private readonly finishedTotal: Counter<'workflow' | 'status'>;
  private readonly durationSeconds: Histogram<'workflow' | 'status'>;
  private readonly transitionSeconds: Histogram;
  private readonly failedTotal: Counter<'workflow'>;
  private readonly stepSeconds: Histogram<'action' | 'status'>;
  private readonly stepAttempts: Histogram<'action'>;
  private readonly triggerSkippedTotal: Counter<'workflow'>;

  constructor(registry: Registry) {
    this.startedTotal = new Counter({
      name: 'baton_executions_started_total',
      help: 'Executions started, by workflow',
      labelNames: ['workflow'],
      registers: [registry],
    });
    this.finishedTotal = new Counter({
      name: 'baton_executions_finished_total',
      help: 'Executions that reached a terminal state, by workflow and status',
      labelNames: ['workflow', 'status'],
      registers: [registry],
    });
    this.durationSeconds = new Histogram({
      name: 'baton_execution_duration_seconds',
      help: 'Start-to-finish duration of executions, by workflow and terminal status',
      labelNames: ['workflow', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    });
    this.failedTotal = new Counter({
      name: 'baton_executions_failed_total',
      help: 'Executions that ended FAILED, by workflow',
      labelNames: ['workflow'],
      registers: [registry],
    });
    this.stepSeconds = new Histogram({
      name: 'baton_step_duration_seconds',
      help: 'From dispatch to result of the last attempt of task and decision steps, by action and outcome',
      labelNames: ['action', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.stepAttempts = new Histogram({
      name: 'baton_step_attempts',
      help: 'Attempts a task or decision step took when it finished, by action',
      labelNames: ['action'],
      buckets: [1, 2, 3, 5, 10, 20],
      registers: [registry],
    });
    this.triggerSkippedTotal = new Counter({
      name: 'baton_trigger_condition_skipped_total',
      help: 'Events that matched a trigger subject but not its condition, so started nothing, by workflow',
      labelNames: ['workflow'],
      registers: [registry],
    });
    this.transitionSeconds = new Histogram({
      name: 'baton_transition_duration_seconds',
      help: 'Time to apply one task result: load, compute, compare-and-set write and publish',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  }

  /** A task or decision step finished (COMPLETED or FAILED) by a result: its attempt's duration and count. */
  stepFinished(action: string, status: string, step: StepRecord): void {
    const started = Date.parse(step.scheduledAt ?? '');
    const finished = Date.parse(step.finishedAt ?? '');
    const labels = { action, status: status.toLowerCase() };
    if (Number.isFinite(started) && Number.isFinite(finished)) {
      this.stepSeconds.observe(labels, Math.max(0, finished - started) / 1000);
    }
    this.stepAttempts.observe({ action }, step.attempt);
  }

  /** An event matched a trigger's subject, not its condition. */
  triggerSkipped(workflow: string): void {
    this.triggerSkippedTotal.inc({ workflow });
  }

  started(record: ExecutionRecord): void {
    this.startedTotal.inc({ workflow: record.workflowId });
  }

  finished(record: ExecutionRecord): void {
    const status = record.status.toLowerCase();
    this.finishedTotal.inc({ workflow: record.workflowId, status });
    if (status === 'failed') this.failedTotal.inc({ workflow: record.workflowId });
    const started = Date.parse(record.startedAt);
    const finished = Date.parse(record.finishedAt ?? record.updatedAt);
    if (Number.isFinite(started) && Number.isFinite(finished)) {
      this.durationSeconds.observe(
        { workflow: record.workflowId, status },
        Math.max(0, finished - started) / 1000,
      );
    }
  }

  transition(ms: number): void {
    this.transitionSeconds.observe(ms / 1000);
  }
}
