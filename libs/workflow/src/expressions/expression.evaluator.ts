import jsonata from 'jsonata';

import { BatonError, ErrorCode, isBatonError } from '@baton/contracts';

import { analyzeAst } from './expression.classifier';
import type { ExpressionPlacement } from './expression.classifier';
import { EvaluatorPool } from './expression.pool';
import type { PoolOutcome } from './expression.pool';
import { expressionBody, isExpression, jsonataErrorInfo, pointerToken } from './expression';
import { LruCache } from './lru-cache';

/** What an expression can read (CONTRACT §3.1), exposed to JSONata as `$input`, `$steps`, ... */
export interface ExpressionBindings {
  input?: unknown;
  steps?: Record<string, { output?: unknown; status?: string }>;
  event?: unknown;
  execution?: { id: string; workflowId: string; version: number; startedAt: string };
  item?: unknown;
  index?: number;
}

/** Bounds of an {@link ExpressionEvaluator}. Every field is optional. */
export interface ExpressionEvaluatorOptions {
  /** Wall-clock bound of one evaluation (JSONata's guard; the pool process is killed shortly after). Default 500. */
  timeoutMs?: number;
  /** Heap bound of each pool process, in MiB. Default 64. */
  maxMemoryMb?: number;
  /** Number of pool processes. Default 2. */
  poolSize?: number;
  /** Largest JSON size of the bindings, in bytes. Default 1 MiB. */
  maxInputBytes?: number;
  /** Largest JSON size of a result, in bytes. Default 256 KiB. */
  maxResultBytes?: number;
  /** JSONata's evaluation-depth guard (nested evaluations, e.g. recursion). Default 500. */
  maxDepth?: number;
  /** Compiled expressions kept (LRU). Default 1000. */
  cacheSize?: number;
}

/** Why an evaluation failed; carried in the error's `context.reason`. */
export type ExpressionFailureReason = 'timeout' | 'memory' | 'error';

/** Counters for metrics and tests. */
export interface ExpressionEvaluatorStats {
  /** Evaluations run in the calling thread (safe subset). */
  inline: number;
  /** Evaluations sent to the pool. */
  pooled: number;
  /** Pool processes started. */
  processesStarted: number;
  /** Pool processes killed or lost while evaluating (timeout, memory, crash). */
  processesReplaced: number;
}

interface Compiled {
  body: string;
  placement: ExpressionPlacement;
  /** AST nodes of an inline expression (its work and result are at most nodes x bindings size). */
  nodes: number;
  expr?: jsonata.Expression;
  syntax?: { message: string; code?: string; position?: number };
}

const DEFAULTS = {
  timeoutMs: 500,
  maxMemoryMb: 64,
  poolSize: 2,
  maxInputBytes: 1024 * 1024,
  maxResultBytes: 256 * 1024,
  maxDepth: 500,
  cacheSize: 1000,
};

/**
 * Largest (AST nodes x bindings bytes) evaluated inline. An inline expression's work and result grow at
 * most by that product (`[$input, $input, ...]`), so past it even a safe expression goes to the pool.
 */
export const INLINE_WORK_BUDGET_BYTES = 16 * 1024 * 1024;

/** Longest expression text quoted in an error message. */
const QUOTE_LIMIT = 200;

/**
 * Evaluates JSONata expressions (CONTRACT §3.1) within bounds, without risk to the calling process.
 *
 * Each expression is compiled once (LRU cache) and classified (see `classifyAst`): expressions of the safe
 * subset run in the calling thread with JSONata's time and depth guards; all others run in a pool of
 * isolated evaluator processes (heap bound `maxMemoryMb`), one job per process, killed and replaced when
 * they overrun `timeoutMs`. Every failure is a BatonError `EXPRESSION_FAILED` whose message names `where`
 * and the expression and says `timeout`, `memory` or `error`; `context` holds
 * `{ where, expression, reason, code?, position? }`. After {@link close}, calls fail with `UNAVAILABLE`.
 */
export class ExpressionEvaluator {
  private readonly opts: Required<ExpressionEvaluatorOptions>;
  private readonly cache: LruCache<string, Compiled>;
  private readonly pool: EvaluatorPool;
  /** JSON sizes of binding values, computed once per object: bindings are treated as immutable. */
  private readonly sizes = new WeakMap<object, number>();
  private counts = { inline: 0, pooled: 0 };
  private closed = false;

  constructor(options: ExpressionEvaluatorOptions = {}) {
    const opts = { ...DEFAULTS, ...stripUndefined(options) };
    for (const [name, value] of Object.entries(opts)) {
      if (!Number.isFinite(value) || value <= 0) {
        throw new BatonError(
          ErrorCode.BAD_REQUEST,
          `ExpressionEvaluator option ${name} must be a positive number`,
        );
      }
    }
    this.opts = opts;
    this.cache = new LruCache(opts.cacheSize);
    this.pool = new EvaluatorPool({
      poolSize: Math.max(1, Math.floor(opts.poolSize)),
      timeoutMs: opts.timeoutMs,
      killGraceMs: Math.max(100, Math.ceil(opts.timeoutMs / 4)),
      maxMemoryMb: Math.max(16, Math.floor(opts.maxMemoryMb)),
      maxDepth: opts.maxDepth,
      maxResultBytes: opts.maxResultBytes,
      cacheSize: opts.cacheSize,
      startTimeoutMs: Math.max(10_000, opts.timeoutMs * 4),
    });
  }

  /**
   * Where `expression` runs: `inline` (safe subset) or `pool`. An inline expression still goes to the pool
   * when its AST size times the bindings size exceeds {@link INLINE_WORK_BUDGET_BYTES}. Expressions that do
   * not parse are reported as `inline` (they fail without being run).
   */
  classify(expression: string): ExpressionPlacement {
    return this.compile(expressionBody(expression)).placement;
  }

  /** Counters of where evaluations ran and of pool process churn. */
  stats(): ExpressionEvaluatorStats {
    return {
      inline: this.counts.inline,
      pooled: this.counts.pooled,
      processesStarted: this.pool.spawned,
      processesReplaced: this.pool.restarts,
    };
  }

  /**
   * Evaluates one expression. `expression` is a `{% ... %}` string or a bare JSONata body. The result is a
   * JSON value (a fresh copy: functions dropped as JSON.stringify drops them), or `undefined` when the
   * expression yields nothing. `where` names the place for error messages (`step reserve parameters`).
   */
  async evaluate(expression: string, bindings: ExpressionBindings, where: string): Promise<unknown> {
    return this.evaluateWith(expression, bindings, where, new PreparedBindings(bindings, this));
  }

  /**
   * Deep-walks `template` (objects and arrays) and replaces every expression string by its value.
   * Non-expression values are kept (containers are copied). An object key whose expression yields
   * `undefined` is omitted; an array element that does becomes `null` (as in JSON). Expressions run one at a
   * time in document order; the first failure rejects, its message naming `where` and the JSON pointer
   * (`step reserve parameters at /order/id`).
   */
  async evaluateTemplate(template: unknown, bindings: ExpressionBindings, where: string): Promise<unknown> {
    const prepared = new PreparedBindings(bindings, this);
    const walk = async (value: unknown, path: string): Promise<unknown> => {
      if (typeof value === 'string') {
        if (!isExpression(value)) return value;
        return this.evaluateWith(value, bindings, path === '' ? where : `${where} at ${path}`, prepared);
      }
      if (Array.isArray(value)) {
        const out: unknown[] = [];
        for (let i = 0; i < value.length; i++) {
          const v = await walk(value[i], `${path}/${i}`);
          out.push(v === undefined ? null : v);
        }
        return out;
      }
      if (value !== null && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
          const v = await walk(child, `${path}/${pointerToken(key)}`);
          if (v !== undefined) defineField(out, key, v);
        }
        return out;
      }
      return value;
    };
    return walk(template, '');
  }

  /** Stops the pool processes. Pending and later calls fail with `UNAVAILABLE`. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
  }

  /** @internal JSON size of one binding value, cached per object. */
  sizeOf(value: unknown): number {
    if (value === undefined) return 0;
    if (value === null || typeof value !== 'object') return jsonBytes(value);
    const cached = this.sizes.get(value);
    if (cached !== undefined) return cached;
    const size = jsonBytes(value);
    this.sizes.set(value, size);
    return size;
  }

  private async evaluateWith(
    expression: string,
    bindings: ExpressionBindings,
    where: string,
    prepared: PreparedBindings,
  ): Promise<unknown> {
    if (this.closed) throw new BatonError(ErrorCode.UNAVAILABLE, 'the expression evaluator is closed');
    const compiled = this.compile(expressionBody(expression));
    const fail = (
      reason: ExpressionFailureReason,
      detail: string,
      extra: Record<string, unknown> = {},
    ): never => {
      throw new BatonError(
        ErrorCode.EXPRESSION_FAILED,
        `${where}: expression ${quote(compiled.body)} failed (${reason}): ${detail}`,
        { retryable: false, context: { where, expression: compiled.body, reason, ...extra } },
      );
    };
    if (compiled.syntax) {
      const { message, code, position } = compiled.syntax;
      return fail('error', `syntax error at position ${position ?? 0}: ${message}`, { code, position });
    }
    const size = prepared.size();
    if (size === undefined) return fail('error', 'the bindings are not JSON-serialisable');
    if (size > this.opts.maxInputBytes) {
      return fail('error', `the bindings are ${size} bytes of JSON; the limit is ${this.opts.maxInputBytes}`);
    }

    if (
      compiled.placement === 'inline' &&
      compiled.expr &&
      compiled.nodes * size <= INLINE_WORK_BUDGET_BYTES
    ) {
      this.counts.inline += 1;
      let result: unknown;
      try {
        result = await compiled.expr.evaluate(undefined, jsonataBindings(bindings));
      } catch (err) {
        const info = jsonataErrorInfo(err);
        return fail(info.code === 'D1012' ? 'timeout' : 'error', describe(info), pick(info));
      }
      let json: string | undefined;
      try {
        json = toJson(result);
      } catch (err) {
        return fail('error', `the result is not JSON-serialisable: ${jsonataErrorInfo(err).message}`);
      }
      return this.fromJson(json, fail);
    }

    this.counts.pooled += 1;
    const text = prepared.json();
    if (text === undefined) return fail('error', 'the bindings are not JSON-serialisable');
    let outcome: PoolOutcome;
    try {
      outcome = await this.pool.run(compiled.body, text);
    } catch (err) {
      if (isBatonError(err)) throw err;
      throw new BatonError(
        ErrorCode.UNAVAILABLE,
        `expression evaluator failed: ${jsonataErrorInfo(err).message}`,
      );
    }
    if (outcome.ok) return this.fromJson(outcome.json, fail);
    if (outcome.kind === 'resultTooLarge') {
      return fail(
        'error',
        `the result is ${outcome.message} bytes of JSON; the limit is ${this.opts.maxResultBytes}`,
      );
    }
    if (outcome.kind === 'notSerialisable') {
      return fail('error', `the result is not JSON-serialisable: ${outcome.message}`);
    }
    const reason = outcome.code === 'D1012' ? 'timeout' : outcome.reason;
    return fail(reason, describe(outcome), pick(outcome));
  }

  private fromJson(
    json: string | undefined,
    fail: (reason: ExpressionFailureReason, detail: string) => never,
  ): unknown {
    if (json === undefined) return undefined;
    const bytes = Buffer.byteLength(json);
    if (bytes > this.opts.maxResultBytes) {
      return fail('error', `the result is ${bytes} bytes of JSON; the limit is ${this.opts.maxResultBytes}`);
    }
    return JSON.parse(json) as unknown;
  }

  private compile(body: string): Compiled {
    const hit = this.cache.get(body);
    if (hit) return hit;
    let compiled: Compiled;
    try {
      const expr = jsonata(body, { timeout: this.opts.timeoutMs, stack: this.opts.maxDepth });
      compiled = { body, ...analyzeAst(expr.ast()), expr };
    } catch (err) {
      const info = jsonataErrorInfo(err);
      compiled = { body, placement: 'inline', nodes: 0, syntax: info };
    }
    this.cache.set(body, compiled);
    return compiled;
  }
}

/** Bindings of one call (or one template walk): their size and JSON text, each computed at most once. */
class PreparedBindings {
  private bytes: number | undefined | null = null;
  private text: string | undefined | null = null;

  constructor(
    private readonly bindings: ExpressionBindings,
    private readonly evaluator: ExpressionEvaluator,
  ) {}

  /** JSON size in bytes (sum over the binding values), or `undefined` when not serialisable. */
  size(): number | undefined {
    if (this.bytes !== null) return this.bytes;
    try {
      const b = this.bindings;
      let total = 2;
      for (const key of ['input', 'event', 'item', 'index', 'execution'] as const) {
        if (b[key] !== undefined) total += key.length + 4 + this.evaluator.sizeOf(b[key]);
      }
      if (b.steps !== undefined) {
        total += 9;
        for (const [id, step] of Object.entries(b.steps)) {
          total += Buffer.byteLength(id) + 6;
          if (step === null || typeof step !== 'object') {
            total += this.evaluator.sizeOf(step);
            continue;
          }
          if (step.output !== undefined) total += 10 + this.evaluator.sizeOf(step.output);
          if (step.status !== undefined) total += 10 + this.evaluator.sizeOf(step.status);
        }
      }
      this.bytes = total;
    } catch {
      this.bytes = undefined;
    }
    return this.bytes;
  }

  /** The bindings as JSON text for the pool, or `undefined` when not serialisable. */
  json(): string | undefined {
    if (this.text !== null) return this.text;
    try {
      this.text = JSON.stringify(jsonataBindings(this.bindings));
    } catch {
      this.text = undefined;
    }
    return this.text;
  }
}

/** The variables handed to JSONata; absent bindings stay unbound (they read as `undefined`). */
function jsonataBindings(b: ExpressionBindings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (b.input !== undefined) out.input = b.input;
  if (b.steps !== undefined) out.steps = b.steps;
  if (b.event !== undefined) out.event = b.event;
  if (b.execution !== undefined) out.execution = b.execution;
  if (b.item !== undefined) out.item = b.item;
  if (b.index !== undefined) out.index = b.index;
  return out;
}

/** JSON.stringify that drops JSONata functions and lambdas like plain functions. */
function toJson(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'function') return undefined;
    if (v !== null && typeof v === 'object') {
      const marks = v as { _jsonata_lambda?: unknown; _jsonata_function?: unknown };
      if (marks._jsonata_lambda === true || marks._jsonata_function === true) return undefined;
    }
    return v;
  });
}

function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? 0 : Buffer.byteLength(text);
}

function describe(info: { message: string; code?: string; position?: number }): string {
  const where = info.position === undefined ? '' : ` at position ${info.position}`;
  const code = info.code === undefined ? '' : ` [${info.code}]`;
  return `${info.message}${code}${where}`;
}

function pick(info: { code?: string; position?: number }): Record<string, unknown> {
  return {
    ...(info.code === undefined ? {} : { code: info.code }),
    ...(info.position === undefined ? {} : { position: info.position }),
  };
}

function quote(body: string): string {
  const text = body.length > QUOTE_LIMIT ? `${body.slice(0, QUOTE_LIMIT - 3)}...` : body;
  return `{% ${text} %}`;
}

function defineField(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function stripUndefined(options: ExpressionEvaluatorOptions): Partial<Required<ExpressionEvaluatorOptions>> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
