import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The current version of a rule (table `rules`); `deletedAt` is set once the rule is deleted. */
@Entity({ name: 'rules' })
@Index('rules_live_category_idx', { synchronize: false })
export class RuleEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'integer' })
  version!: number;

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

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}
