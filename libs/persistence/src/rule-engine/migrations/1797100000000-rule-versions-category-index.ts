import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An index for reading a category's versions by time (`categoryAsOf`, `categoryChangedAt`: pinned
 * decisions), which otherwise scan `rule_versions`.
 */
export class RuleVersionsCategoryIndex1797100000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX rule_versions_category_idx ON rule_versions (category, recorded_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX rule_versions_category_idx`);
  }
}
