import type { DataSource, EntityManager } from 'typeorm';

import { BatonError, ErrorCode } from '@baton/contracts';

import { toBatonDatabaseError } from '../database-errors';
import {
  type RuleChange,
  type RuleDefinition,
  RuleOperation,
  type RuleVersion,
  type StoredRule,
} from './rule-engine.types';

interface RuleRow {
  id: string;
  version: number;
  name: string;
  description: string;
  category: string;
  condition: Record<string, unknown>;
  actions: RuleDefinition['actions'];
  priority: number;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

interface VersionRow extends Omit<RuleRow, 'id' | 'created_at' | 'updated_at' | 'deleted_at'> {
  rule_id: string;
  operation: RuleOperation;
  recorded_at: Date;
}

const RULE_COLUMNS = `id, version, name, description, category, condition, actions, priority, enabled,
  created_at, updated_at, deleted_at`;
const VERSION_COLUMNS = `rule_id, version, operation, name, description, category, condition, actions,
  priority, enabled, recorded_at`;

/** `UPDATE ... RETURNING` comes back from the postgres driver as `[rows, count]`. */
function rowsOf<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  )
    return result[0] as T[];
  return result as T[];
}

/**
 * Rules of the rule-engine: the current version of each in `rules`, every version in `rule_versions`.
 * Each create, update and delete writes a new version in one transaction; deleted rules keep their
 * history, and their id may be created again (the versions continue).
 */
export class RuleRepository {
  constructor(private readonly ds: DataSource) {}

  /** Stores version 1 (or the next version of a deleted rule). `CONFLICT` when the id is live. */
  async create(def: RuleDefinition): Promise<RuleChange> {
    return this.write(`creating rule ${def.id}`, async (m) => {
      const rows = rowsOf<RuleRow>(
        await m.query(
          `INSERT INTO rules AS r (id, version, name, description, category, condition, actions, priority, enabled)
           VALUES ($1, 1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)
           ON CONFLICT (id) DO UPDATE SET version = r.version + 1, name = EXCLUDED.name,
             description = EXCLUDED.description, category = EXCLUDED.category, condition = EXCLUDED.condition,
             actions = EXCLUDED.actions, priority = EXCLUDED.priority, enabled = EXCLUDED.enabled,
             created_at = now(), updated_at = now(), deleted_at = NULL
           WHERE r.deleted_at IS NOT NULL
           RETURNING ${RULE_COLUMNS}`,
          [def.id, ...values(def)],
        ),
      );
      if (rows.length === 0) {
        throw new BatonError(ErrorCode.CONFLICT, `rule ${def.id} already exists`, { retryable: false });
      }
      const rule = await this.appendVersion(m, rows[0], RuleOperation.CREATE);
      return { rule, current: toStored(rows[0]), categories: [rule.category] };
    });
  }

  /** Stores the next version of a live rule; null when there is none. */
  async update(def: RuleDefinition): Promise<RuleChange | null> {
    return this.write(`updating rule ${def.id}`, async (m) => {
      const before = await this.lockLive(m, def.id);
      if (before === null) return null;
      const rows = rowsOf<RuleRow>(
        await m.query(
          `UPDATE rules SET version = version + 1, name = $2, description = $3, category = $4,
             condition = $5::jsonb, actions = $6::jsonb, priority = $7, enabled = $8, updated_at = now()
           WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
          [def.id, ...values(def)],
        ),
      );
      const rule = await this.appendVersion(m, rows[0], RuleOperation.UPDATE);
      return { rule, current: toStored(rows[0]), categories: [...new Set([rule.category, before.category])] };
    });
  }

  /** Deletes a live rule: a tombstone version repeating its last definition. Null when there is none. */
  async remove(id: string): Promise<RuleChange | null> {
    return this.write(`deleting rule ${id}`, async (m) => {
      if ((await this.lockLive(m, id)) === null) return null;
      const rows = rowsOf<RuleRow>(
        await m.query(
          `UPDATE rules SET version = version + 1, updated_at = now(), deleted_at = now()
           WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
          [id],
        ),
      );
      const rule = await this.appendVersion(m, rows[0], RuleOperation.DELETE);
      return { rule, current: toStored(rows[0]), categories: [rule.category] };
    });
  }

  /** The live rule `id`, or null. */
  async get(id: string): Promise<StoredRule | null> {
    const rows = await this.read<RuleRow>(
      `reading rule ${id}`,
      `SELECT ${RULE_COLUMNS} FROM rules WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return rows.length === 0 ? null : toStored(rows[0]);
  }

  /** Live rules with these ids (unknown ones are left out), highest priority first. */
  async getMany(ids: readonly string[]): Promise<StoredRule[]> {
    const rows = await this.read<RuleRow>(
      'reading rules',
      `SELECT ${RULE_COLUMNS} FROM rules WHERE id = ANY($1::text[]) AND deleted_at IS NULL
        ORDER BY priority DESC, id`,
      [[...ids]],
    );
    return rows.map(toStored);
  }

  /** Live rules, of one category when given, highest priority first, then by id. */
  async list(query: { category?: string } = {}): Promise<StoredRule[]> {
    const rows =
      query.category === undefined
        ? await this.read<RuleRow>(
            'listing rules',
            `SELECT ${RULE_COLUMNS} FROM rules WHERE deleted_at IS NULL ORDER BY priority DESC, id`,
            [],
          )
        : await this.read<RuleRow>(
            `listing rules of category ${query.category}`,
            `SELECT ${RULE_COLUMNS} FROM rules WHERE deleted_at IS NULL AND category = $1
              ORDER BY priority DESC, id`,
            [query.category],
          );
    return rows.map(toStored);
  }

  /** Every version of rule `id`, oldest first (tombstones included); null when it never existed. */
  async versions(id: string): Promise<RuleVersion[] | null> {
    const rows = await this.read<VersionRow>(
      `reading versions of rule ${id}`,
      `SELECT ${VERSION_COLUMNS} FROM rule_versions WHERE rule_id = $1 ORDER BY version`,
      [id],
    );
    return rows.length === 0 ? null : rows.map(toVersion);
  }

  /**
   * When the rules of `category` last changed: the latest version recorded in it, or moving a rule out of
   * it. Null when the category never had a rule. Compared with an execution's `rulesAsOf` to tell whether
   * its pinned rules are still the current ones.
   */
  async categoryChangedAt(category: string): Promise<Date | null> {
    const rows = await this.read<{ changed_at: Date | null }>(
      `reading when category ${category} changed`,
      `SELECT max(v.recorded_at) AS changed_at FROM rule_versions v
        WHERE v.category = $1
           OR EXISTS (SELECT 1 FROM rule_versions p
                       WHERE p.rule_id = v.rule_id AND p.version = v.version - 1 AND p.category = $1)`,
      [category],
    );
    return rows[0]?.changed_at ?? null;
  }

  /**
   * The enabled rules of `category` as they were at `asOf`: for every rule, its latest version recorded
   * at or before then, kept when that version was live, enabled and in the category. Highest priority
   * first, then by id.
   */
  async categoryAsOf(category: string, asOf: Date): Promise<StoredRule[]> {
    const rows = await this.read<VersionRow>(
      `reading rules of category ${category} as of ${asOf.toISOString()}`,
      `SELECT ${VERSION_COLUMNS} FROM (
         SELECT DISTINCT ON (rule_id) ${VERSION_COLUMNS} FROM rule_versions
          WHERE recorded_at <= $2
            AND rule_id IN (SELECT rule_id FROM rule_versions WHERE category = $1)
          ORDER BY rule_id, version DESC
       ) AS current
       WHERE operation <> 'delete' AND enabled AND category = $1
       ORDER BY priority DESC, rule_id`,
      [category, asOf],
    );
    return rows.map((row) => ({
      ...definitionOf(row, row.rule_id),
      version: row.version,
      createdAt: row.recorded_at.toISOString(),
      updatedAt: row.recorded_at.toISOString(),
    }));
  }

  private async lockLive(m: EntityManager, id: string): Promise<RuleRow | null> {
    const rows = rowsOf<RuleRow>(
      await m.query(`SELECT ${RULE_COLUMNS} FROM rules WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [
        id,
      ]),
    );
    return rows[0] ?? null;
  }

  private async appendVersion(
    m: EntityManager,
    row: RuleRow,
    operation: RuleOperation,
  ): Promise<RuleVersion> {
    const rows = rowsOf<VersionRow>(
      await m.query(
        `INSERT INTO rule_versions (rule_id, version, operation, name, description, category, condition, actions,
           priority, enabled, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)
         RETURNING ${VERSION_COLUMNS}`,
        [
          row.id,
          row.version,
          operation,
          row.name,
          row.description,
          row.category,
          JSON.stringify(row.condition),
          JSON.stringify(row.actions),
          row.priority,
          row.enabled,
          row.updated_at,
        ],
      ),
    );
    return toVersion(rows[0]);
  }

  private async write<T>(what: string, fn: (m: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.ds.transaction(fn);
    } catch (err) {
      // Two creates of a new id at once: the loser hits the primary key.
      if ((err as { code?: unknown }).code !== ErrorCode.CONFLICT && /duplicate key/i.test(String(err))) {
        throw new BatonError(ErrorCode.CONFLICT, `${what}: the rule changed concurrently`, {
          retryable: false,
        });
      }
      throw toBatonDatabaseError(err, what);
    }
  }

  private async read<T>(what: string, sql: string, params: unknown[]): Promise<T[]> {
    try {
      return rowsOf<T>(await this.ds.query(sql, params));
    } catch (err) {
      throw toBatonDatabaseError(err, what);
    }
  }
}

function values(def: RuleDefinition): unknown[] {
  return [
    def.name,
    def.description,
    def.category,
    JSON.stringify(def.condition),
    JSON.stringify(def.actions),
    def.priority,
    def.enabled,
  ];
}

function definitionOf(row: RuleRow | VersionRow, id: string): RuleDefinition {
  return {
    id,
    name: row.name,
    description: row.description,
    category: row.category,
    condition: row.condition,
    actions: row.actions,
    priority: row.priority,
    enabled: row.enabled,
  };
}

function toStored(row: RuleRow): StoredRule {
  return {
    ...definitionOf(row, row.id),
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toVersion(row: VersionRow): RuleVersion {
  return {
    ...definitionOf(row, row.rule_id),
    version: row.version,
    operation: row.operation,
    recordedAt: row.recorded_at.toISOString(),
  };
}
