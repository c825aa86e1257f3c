import { parseDocument } from 'yaml';

import { BatonError, ErrorCode } from '@baton/contracts';

/** Most YAML aliases expanded in one document (guards against "billion laughs"). */
const MAX_YAML_ALIASES = 100;

/**
 * Parses a workflow definition body. YAML when `contentType` is `application/yaml`, `text/yaml` (or another
 * `yaml` media type), JSON when it is `application/json` (or `+json`); without a telling content type, text
 * whose first non-blank character is `{` or `[` is JSON and anything else YAML.
 * YAML is read as the 1.2 core schema into plain JSON values: one document, unique keys, at most
 * {@link MAX_YAML_ALIASES} aliases, no custom or binary tags, no `.inf`/`.nan`.
 * A syntax error throws BatonError BAD_REQUEST naming the format, line and column (1-based), with
 * `context: { format, line, column }` and one detail (rule `syntax`).
 */
export function parseDefinitionText(text: string, contentType?: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const format = formatOf(body, contentType);
  if (body.trim().length === 0) throw syntaxError(format, 1, 1, 'the definition is empty');
  return format === 'json' ? parseJson(body) : parseYaml(body);
}

function formatOf(text: string, contentType: string | undefined): 'json' | 'yaml' {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (media.endsWith('/yaml') || media.endsWith('+yaml') || media.endsWith('/x-yaml')) return 'yaml';
  if (media.endsWith('/json') || media.endsWith('+json')) return 'json';
  const first = text.trimStart()[0];
  return first === '{' || first === '[' ? 'json' : 'yaml';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The engine's message quotes the source and varies between versions: describe the spot ourselves.
    const offset = jsonErrorOffset(text);
    const { line, column } = lineColumn(text, offset);
    const reason =
      offset >= text.length
        ? 'unexpected end of text'
        : `unexpected character ${JSON.stringify(text[offset])}`;
    throw syntaxError('json', line, column, reason);
  }
}

function parseYaml(text: string): unknown {
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, {
      schema: 'core',
      resolveKnownTags: false,
      uniqueKeys: true,
      prettyErrors: true,
      merge: false,
    });
  } catch (err) {
    throw syntaxError('yaml', 1, 1, err instanceof Error ? err.message : String(err));
  }
  const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (problem) {
    const pos = problem.linePos?.[0] ?? { line: 1, col: 1 };
    throw syntaxError('yaml', pos.line, pos.col, firstLine(problem.message));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
  } catch (err) {
    throw syntaxError('yaml', 1, 1, err instanceof Error ? firstLine(err.message) : String(err));
  }
  const bad = firstNonJson(value);
  if (bad !== undefined) {
    throw new BatonError(
      ErrorCode.BAD_REQUEST,
      `the YAML definition holds a value that is not JSON at ${bad || '/'}`,
      {
        retryable: false,
        context: { format: 'yaml' },
        details: [
          {
            path: bad,
            message: 'not a JSON value (finite number, string, boolean, null, list or map)',
            rule: 'syntax',
          },
        ],
      },
    );
  }
  return value;
}

/** `yaml` messages end with " at line L, column C:" and a code frame: keep the first sentence. */
function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?\s*$/, '');
}

function syntaxError(format: 'json' | 'yaml', line: number, column: number, reason: string): BatonError {
  const message = `the definition is not valid ${format.toUpperCase()}: line ${line}, column ${column}: ${reason}`;
  return new BatonError(ErrorCode.BAD_REQUEST, message, {
    retryable: false,
    context: { format, line, column },
    details: [{ path: '', message, rule: 'syntax' }],
  });
}

/** Path of the first value that JSON cannot hold (Buffer, Date, Map, non-finite number), if any. */
function firstNonJson(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (node === null || typeof node === 'string' || typeof node === 'boolean') continue;
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) return path;
      continue;
    }
    if (Array.isArray(node)) {
      node.forEach((v, i) => stack.push([v, `${path}/${i}`]));
      continue;
    }
    if (typeof node === 'object' && Object.getPrototypeOf(node) === Object.prototype) {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        stack.push([v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`]);
      }
      continue;
    }
    return path;
  }
  return undefined;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/**
 * Offset of the first character at which `text` stops being valid JSON (RFC 8259). Iterative, so deep
 * nesting cannot overflow the stack. Returns `text.length` when the text ends too early.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const stack: ('[' | '{')[] = [];
  const skip = (): void => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            return false;
          }
          i += 6;
        } else if (e !== undefined && ESCAPES.has(e)) {
          i += 2;
        } else {
          i += 1;
          return false;
        }
        continue;
      }
      i++;
    }
    return false;
  };
  // mode: 'value' expects a value, 'after' a separator/closer/end, 'key' an object key.
  let mode: 'value' | 'after' | 'key' = 'value';
  for (;;) {
    skip();
    if (mode === 'value') {
      const c = text[i];
      if (c === '[' || c === '{') {
        stack.push(c);
        i++;
        skip();
        if (text[i] === (c === '[' ? ']' : '}')) {
          i++;
          stack.pop();
          mode = 'after';
        } else {
          mode = c === '[' ? 'value' : 'key';
        }
        continue;
      }
      if (c === '"') {
        if (!string()) return i;
        mode = 'after';
        continue;
      }
      if (text.startsWith('true', i) || text.startsWith('null', i)) {
        i += 4;
        mode = 'after';
        continue;
      }
      if (text.startsWith('false', i)) {
        i += 5;
        mode = 'after';
        continue;
      }
      NUMBER.lastIndex = i;
      if (NUMBER.exec(text) !== null && NUMBER.lastIndex > i) {
        i = NUMBER.lastIndex;
        mode = 'after';
        continue;
      }
      return i;
    }
    if (mode === 'key') {
      if (!string()) return i;
      skip();
      if (text[i] !== ':') return i;
      i++;
      mode = 'value';
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i; // trailing characters (or none: then the text was valid after all)
    const c = text[i];
    if (c === ',') {
      i++;
      mode = top === '[' ? 'value' : 'key';
      skip();
      continue;
    }
    if (c === (top === '[' ? ']' : '}')) {
      i++;
      stack.pop();
      continue;
    }
    return i;
  }
}
