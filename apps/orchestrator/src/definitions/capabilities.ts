import { StepType, isSubjectToken } from '@baton/contracts';
import type { ErrorDetail, WorkflowDefinition } from '@baton/contracts';

/** Step types this orchestrator executes. The others are valid definitions it refuses to register. */
export const EXECUTABLE_STEP_TYPES: readonly string[] = [
  StepType.TASK,
  StepType.EMIT,
  StepType.DECISION,
  StepType.WAIT,
];

/**
 * Features of a valid definition that this orchestrator cannot run yet: parallel and subworkflow steps.
 * Registering such a definition is refused with a 422 naming each one, rather than accepted and failed at
 * run time. Cron triggers are run by the scheduler (docs/scheduler.md); their expression and time zone are
 * checked by the definition validator (`/triggers/<i>/expression`, `/timezone`), and trigger conditions
 * by the same validator (`/triggers/<i>/condition/...`).
 */
export function unsupportedFeatures(def: WorkflowDefinition): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  def.steps.forEach((step, i) => {
    if (!EXECUTABLE_STEP_TYPES.includes(step.type)) {
      problems.push({
        path: `/steps/${i}/type`,
        message: `step type '${step.type}' is not executed by this orchestrator (supported: ${EXECUTABLE_STEP_TYPES.join(', ')})`,
        rule: 'unsupportedStepType',
      });
    }
    if (step.type === StepType.DECISION && !isSubjectToken(step.action)) {
      problems.push({
        path: `/steps/${i}/action`,
        message: 'a decision names a rule category: one token of [A-Za-z0-9_-]',
        rule: 'ruleCategory',
      });
    }
  });
  return problems;
}
