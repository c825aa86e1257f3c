import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rule-engine's tables: `rules` (the current version of each rule; `deleted_at` set once deleted) and
 * `rule_versions` (every version, immutable: a trigger rejects UPDATE and DELETE).
 */
export class CreateRuleEngineTables1795400000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rules (
        id          text        NOT NULL,
        version     integer     NOT NULL,
        name        text        NOT NULL,
        description text        NOT NULL,
        category    text        NOT NULL,
        condition   jsonb       NOT NULL,
        actions     jsonb       NOT NULL,
        priority    integer     NOT NULL,
        enabled     boolean     NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        deleted_at  timestamptz,
        CONSTRAINT rules_pkey PRIMARY KEY (id)
      )`);
    await q.query(
      `CREATE INDEX rules_live_category_idx ON rules (category, priority DESC, id) WHERE deleted_at IS NULL`,
    );
    await q.query(`
      CREATE TABLE rule_versions (
        rule_id     text        NOT NULL,
        version     integer     NOT NULL,
        operation   text        NOT NULL,
        name        text        NOT NULL,
        description text        NOT NULL,
        category    text        NOT NULL,
        condition   jsonb       NOT NULL,
        actions     jsonb       NOT NULL,
        priority    integer     NOT NULL,
        enabled     boolean     NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT rule_versions_pkey PRIMARY KEY (rule_id, version),
        CONSTRAINT rule_versions_operation_check CHECK (operation IN ('create', 'update', 'delete'))
      )`);
    await q.query(`
      CREATE FUNCTION rule_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'rule_versions is append-only' USING ERRCODE = 'integrity_constraint_violation';
      END $$`);
    await q.query(`
      CREATE TRIGGER rule_versions_append_only BEFORE UPDATE OR DELETE ON rule_versions
        FOR EACH ROW EXECUTE FUNCTION rule_versions_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rule_versions`);
    await q.query(`DROP FUNCTION rule_versions_immutable()`);
    await q.query(`DROP TABLE rules`);
  }
}
