import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One immutable version of a rule (table `rule_versions`, append-only). */
@Entity({ name: 'rule_versions' })
@Check('rule_versions_operation_check', `operation IN ('create', 'update', 'delete')`)
@Index('rule_versions_category_idx', ['category', 'recordedAt'])
export class RuleVersionEntity {
  @PrimaryColumn({ name: 'rule_id', type: 'text' })
  ruleId!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  /** `create`, `update` or `delete` (a tombstone repeating the last definition). */
  @Column({ type: 'text' })
  operation!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  description!: string;

  @Column({ type: 'text' })
  category!: string;

  @Column({ type: 'jsonb' })
  condition!: Record<string, unknown>;

  @Column({ type: 'jsonb' })
  actions!: { type: string; params?: Record<string, unknown> }[];

  @Column({ type: 'integer' })
  priority!: number;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt!: Date;
}
