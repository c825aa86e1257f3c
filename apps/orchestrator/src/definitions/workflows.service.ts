import { Inject, Injectable } from '@nestjs/common';

import { BatonError, ErrorCode, WORKFLOW_ID, validationError } from '@baton/contracts';
import type { ErrorDetail, RegisteredWorkflow } from '@baton/contracts';
import { validateDefinition } from '@baton/workflow';

import { PolicyRegistry } from '../policies/policy-registry';
import { unsupportedFeatures } from './capabilities';
import { WorkflowRegistry } from './workflow-registry';
import type { RegisterOutcome } from './workflow-registry';

/** Registration and lookup of workflow definitions. */
@Injectable()
export class WorkflowsService {
  constructor(
    @Inject(WorkflowRegistry) private readonly registry: WorkflowRegistry,
    @Inject(PolicyRegistry) private readonly policies: PolicyRegistry,
  ) {}

  /** Validates (schema, graph, expressions, what this orchestrator runs) and stores a definition. */
  async register(body: unknown): Promise<{ outcome: RegisterOutcome; workflow: RegisteredWorkflow }> {
    const validated = validateDefinition(body);
    if (!validated.ok) {
      throw validationError(
        `workflow definition is invalid (${validated.errors.length} problems)`,
        validated.errors,
      );
    }
    const def = validated.definition;
    const unknownPolicies: ErrorDetail[] = [];
    (def.policies ?? []).forEach((name, i) => {
      if (!this.policies.get(name)) {
        unknownPolicies.push({
          path: `/policies/${i}`,
          message: `no error policy '${name}' is registered`,
          rule: 'unknownPolicy',
        });
      }
    });
    def.steps.forEach((step, i) => {
      if (step.policy !== undefined && !this.policies.get(step.policy)) {
        unknownPolicies.push({
          path: `/steps/${i}/policy`,
          message: `no error policy '${step.policy}' is registered`,
          rule: 'unknownPolicy',
        });
      }
    });
    if (unknownPolicies.length > 0) {
      throw validationError(
        'workflow definition names error policies that are not registered (POST /v1/policies first)',
        unknownPolicies,
      );
    }
    const unsupported = unsupportedFeatures(validated.definition);
    if (unsupported.length > 0) {
      throw validationError(
        `workflow definition uses features this orchestrator does not run (${unsupported.length})`,
        unsupported,
      );
    }
    return this.registry.register(validated.definition);
  }

  list(): RegisteredWorkflow[] {
    return this.registry.list();
  }

  async get(id: string, version?: number): Promise<{ workflow: RegisteredWorkflow; versions: number[] }> {
    this.assertId(id);
    const workflow = await this.registry.get(id, version);
    if (!workflow || (version === undefined && workflow.deleted)) {
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        version === undefined ? `workflow ${id} not found` : `workflow ${id} version ${version} not found`,
        { retryable: false },
      );
    }
    return { workflow, versions: this.registry.versions(id).map((w) => w.definition.version) };
  }

  async delete(id: string): Promise<{ id: string; versionsDeleted: number }> {
    this.assertId(id);
    return { id, versionsDeleted: await this.registry.delete(id) };
  }

  private assertId(id: string): void {
    if (id.length > 128 || !WORKFLOW_ID.test(id)) {
      throw new BatonError(ErrorCode.BAD_REQUEST, `invalid workflow id ${JSON.stringify(id.slice(0, 80))}`, {
        retryable: false,
        details: [
          { path: '/id', message: 'must match [a-z0-9-]+ (at most 128 characters)', rule: 'workflowId' },
        ],
      });
    }
  }
}
