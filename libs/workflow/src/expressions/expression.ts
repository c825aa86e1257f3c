import jsonata from 'jsonata';

/** Opening and closing marks of an expression string (CONTRACT §3.1). */
const OPEN = '{%';
const CLOSE = '%}';

/**
 * Whether `value` is an expression string: after trimming, it starts with `{%` and ends with `%}`.
 * Strings that merely contain `{% ... %}` somewhere are literals (there is no interpolation).
 */
export function isExpression(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const text = value.trim();
  return text.length >= OPEN.length + CLOSE.length && text.startsWith(OPEN) && text.endsWith(CLOSE);
}

/**
 * The JSONata source inside an expression string (`{% $input.id %}` -> `$input.id`), trimmed.
 * A string that is not an expression is returned trimmed, as if it were the body already.
 */
export function expressionBody(expression: string): string {
  const text = expression.trim();
  if (!isExpression(text)) return text;
  return text.slice(OPEN.length, text.length - CLOSE.length).trim();
}

/** A syntax problem in an expression body, as JSONata's parser reports it. */
export interface ExpressionSyntaxError {
  message: string;
  /** 0-based character offset in the body where the parser stopped. */
  position: number;
  /** JSONata's error code (`S0201`, ...). */
  code?: string;
}

/** The fields of a thrown JSONata error that Baton reports (JSONata throws plain objects). */
export interface JsonataErrorInfo {
  message: string;
  code?: string;
  position?: number;
}

/** Reads message, code and position from whatever JSONata (or the engine) threw. */
export function jsonataErrorInfo(err: unknown): JsonataErrorInfo {
  if (typeof err === 'object' && err !== null) {
    const e = err as { message?: unknown; code?: unknown; position?: unknown };
    return {
      message:
        typeof e.message === 'string' && e.message.length > 0
          ? e.message
          : typeof e.code === 'string'
            ? `JSONata error ${e.code}`
            : 'evaluation failed',
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(typeof e.position === 'number' ? { position: e.position } : {}),
    };
  }
  return { message: typeof err === 'string' ? err : 'evaluation failed' };
}

/** Parses an expression body; returns the parser's complaint, or `undefined` when it parses. */
export function checkExpressionSyntax(body: string): ExpressionSyntaxError | undefined {
  try {
    jsonata(body);
    return undefined;
  } catch (err) {
    const info = jsonataErrorInfo(err);
    return { message: info.message, position: info.position ?? 0, ...(info.code ? { code: info.code } : {}) };
  }
}

/** One expression string found in a value, with the JSON pointer of where it sits. */
export interface FoundExpression {
  path: string;
  expression: string;
}

/** Escapes one JSON-pointer token (RFC 6901). */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Every expression string inside `value` (objects, arrays, nested), each with its JSON pointer under `base`.
 * Walks iteratively, so deep values cannot overflow the stack.
 */
export function findExpressions(value: unknown, base = ''): FoundExpression[] {
  const found: FoundExpression[] = [];
  const stack: [unknown, string][] = [[value, base]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (typeof node === 'string') {
      if (isExpression(node)) found.push({ path, expression: node });
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], `${path}/${i}`]);
    } else if (node !== null && typeof node === 'object') {
      const keys = Object.keys(node);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i];
        stack.push([(node as Record<string, unknown>)[key], `${path}/${pointerToken(key)}`]);
      }
    }
  }
  return found;
}
