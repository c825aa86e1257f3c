export { parseDefinitionText } from './definition/definition.parser';
export { validateDefinition, MAX_REPORTED_ERRORS } from './definition/definition.validator';
export type { DefinitionValidation } from './definition/definition.validator';
export { DEFINITION_SCHEMA, MAX_DEPENDENCIES, MAX_STEPS, MAX_TRIGGERS } from './definition/definition.schema';
export { canonicalJson, definitionDigest } from './definition/canonical-json';
export { branchTargetsFor, evaluateDag, isExecutionComplete, rootSteps, topologicalOrder } from './dag/dag';
export type { DagEvaluation, StepView } from './dag/dag';
export { expressionBody, findExpressions, isExpression } from './expressions/expression';
export type { FoundExpression } from './expressions/expression';
export { BINDING_NAMES, MAX_INLINE_NODES } from './expressions/expression.classifier';
export type { ExpressionPlacement } from './expressions/expression.classifier';
export { ExpressionEvaluator, INLINE_WORK_BUDGET_BYTES } from './expressions/expression.evaluator';
export type {
  ExpressionBindings,
  ExpressionEvaluatorOptions,
  ExpressionEvaluatorStats,
  ExpressionFailureReason,
} from './expressions/expression.evaluator';
export {
  CONDITION_LIMITS,
  CompiledCondition,
  FACT_PATH,
  conditionEngine,
  conditionProblems,
  resolvePath,
} from './conditions/condition';
export {
  BUILT_IN_OPERATORS,
  CUSTOM_OPERATORS,
  MAX_MATCH_INPUT_LENGTH,
  MAX_REGEX_LENGTH,
  OPERATORS,
  OPERATOR_EVALUATORS,
  parseMoment,
  regexProblem,
  registerOperators,
} from './conditions/operators';
export { CRON_NICKNAMES, cronProblem, isTimeZone } from './definition/cron';
