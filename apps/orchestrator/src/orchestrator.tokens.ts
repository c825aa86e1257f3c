/** Injection tokens of the orchestrator's own providers. */
export const WORKFLOWS_KV = Symbol('WORKFLOWS_KV');
export const EXECUTIONS_KV = Symbol('EXECUTIONS_KV');
export const EXPRESSION_EVALUATOR = Symbol('EXPRESSION_EVALUATOR');
export const OUTBOX_PUBLISHER = Symbol('OUTBOX_PUBLISHER');
export const ORCHESTRATOR_METRICS = Symbol('ORCHESTRATOR_METRICS');
export const ORCHESTRATOR_CONFIG = Symbol('ORCHESTRATOR_CONFIG');
export const WAITS_KV = Symbol('WAITS_KV');
