import type { ErrorPolicy, StepDefinition, WorkflowDefinition } from '@baton/contracts';

/** The wildcard error type: a policy listing it (or listing none) matches every failure. */
export const ANY_ERROR = '*';

/** Whether `policy` applies to a failure of type `errorType`. */
export function matchesErrorType(policy: ErrorPolicy, errorType: string): boolean {
  return (
    policy.errorTypes.length === 0 ||
    policy.errorTypes.includes(ANY_ERROR) ||
    policy.errorTypes.includes(errorType)
  );
}

/**
 * Which error policy applies to a failure of `step` (CONTRACT §3.3): the step's own `policy` when it names
 * a registered one (whatever the error type: naming it is the step's choice); else the first of the
 * definition's `policies`, in order, that is registered and whose `errorTypes` match; else none.
 */
export function resolvePolicy(
  lookup: (name: string) => ErrorPolicy | undefined,
  def: WorkflowDefinition,
  step: StepDefinition,
  errorType: string,
): ErrorPolicy | undefined {
  if (step.policy !== undefined) {
    const own = lookup(step.policy);
    if (own !== undefined) return own;
  }
  for (const name of def.policies ?? []) {
    const policy = lookup(name);
    if (policy !== undefined && matchesErrorType(policy, errorType)) return policy;
  }
  return undefined;
}
