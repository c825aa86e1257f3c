/**
 * A seeded generator of bad (and borderline) workflow definitions, request bodies and events, for fuzz
 * tests of the definition pipeline (unit) and of the running services (e2e). No dependencies: the same
 * seed gives the same corpus, so a failure is reproduced by its seed and case name.
 */

/** mulberry32: a small, fast, seedable PRNG. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  string(maxLength = 12): string {
    const alphabet =
      'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.{}%$ \'"\\\n\t\u00e9\u4e2d\ud83d\ude00';
    let out = '';
    const n = this.int(0, maxLength);
    for (let i = 0; i < n; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }
}

/** One input of the corpus. `body` is a JSON value, or text/bytes to send as they are. */
export interface FuzzCase {
  name: string;
  kind: FuzzKind;
  body: unknown;
  /** When set, `body` is sent as-is with this content type (text or bytes). */
  raw?: { contentType: string; data: string | Uint8Array };
  /** The case is invalid by construction (a mutation may stay valid otherwise). */
  invalid: boolean;
  /** The rule the validator must report somewhere, when known. */
  expectRule?: string;
}

export type FuzzKind =
  'wrongType' | 'deep' | 'huge' | 'invalidUtf8' | 'cycle' | 'fanOut' | 'jsonata' | 'garbage' | 'yamlBomb';

/** A valid definition the mutations start from. */
export function baseDefinition(id = 'fuzz-base'): Record<string, unknown> {
  return {
    id,
    name: 'Fuzz base',
    version: 1,
    triggers: [{ type: 'event', subject: 'events.fuzz.base', input: '{% $event %}' }],
    steps: [
      {
        id: 'first',
        type: 'task',
        action: 'fuzz.work',
        parameters: { n: '{% $input.n %}' },
        retryPolicy: { maxAttempts: 2, initialIntervalMs: 10 },
        timeoutSeconds: 30,
      },
      { id: 'second', type: 'task', action: 'fuzz.work', dependencies: ['first'] },
    ],
    output: '{% $steps.second.output %}',
  };
}

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 2 ? 5 : 7)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31]);
    case 3:
      return rng.string(20);
    case 4:
      return rng.pick(['', ' ', '{%', '{% %}', '%}', '__proto__', 'constructor', '\u0000', '\ud800']);
    case 5:
      return rng.pick(['task', 'decision', 'wait', 'emit', 'parallel', 'subworkflow', 'loop']);
    case 6:
      return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(0, 4); i > 0; i--) o[rng.string(6)] = randomValue(rng, depth + 1);
      return o;
    }
  }
}

/** Every [parent, key] in `value`, to pick a mutation point from. */
function slots(value: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([value, i]);
      slots(v, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, k]);
      slots(v, out);
    }
  }
  return out;
}

function mutate(rng: Rng): Record<string, unknown> {
  const def = baseDefinition();
  const times = rng.int(1, 3);
  for (let i = 0; i < times; i++) {
    const all = slots(def);
    const [parent, key] = rng.pick(all);
    const op = rng.int(0, 2);
    if (op === 0 || Array.isArray(parent))
      (parent as Record<string | number, unknown>)[key] = randomValue(rng);
    else if (op === 1) delete parent[key as string];
    else parent[rng.string(8) || 'x'] = randomValue(rng);
  }
  return def;
}

/** `depth` levels of nesting around `1`, as JSON text. */
export function nestedText(depth: number, asArray: boolean): string {
  return asArray
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function cyclic(rng: Rng): Record<string, unknown> {
  const n = rng.int(2, 30);
  const steps = Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    type: 'task',
    action: 'fuzz.work',
    dependencies: i === 0 ? [`s${n - 1}`] : [`s${i - 1}`],
  }));
  return { ...baseDefinition(), steps };
}

/** Bytes that are not UTF-8 (lone continuation bytes, overlong forms, surrogates encoded in UTF-8). */
function invalidUtf8(rng: Rng): Uint8Array {
  const text = JSON.stringify(baseDefinition());
  const bytes = Buffer.from(text, 'utf8');
  const bad = rng.pick([
    [0xff],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xe2, 0x82],
  ]);
  // Put the bad bytes inside the name's string value.
  const at = bytes.indexOf(Buffer.from('Fuzz base')) + rng.int(0, 8);
  return new Uint8Array(Buffer.concat([bytes.subarray(0, at), Buffer.from(bad), bytes.subarray(at)]));
}

/** Expressions that loop, recurse without end or allocate without bound. */
export const HOSTILE_EXPRESSIONS = [
  '{% ( $f := function($x) { $f($x + 1) }; $f(0) ) %}',
  '{% ( $loop := function($n) { $n > 0 ? $loop($n - 1) : 0 }; $loop(100000000) ) %}',
  '{% $count([1..100000000]) %}',
  '{% $join([1..5000000].$string(), ",") %}',
  '{% ( $s := "xxxxxxxxxxxxxxxx"; $d := function($t, $k) { $k = 0 ? $t : $d($t & $t, $k - 1) }; $d($s, 40) ) %}',
  '{% $sum([1..100000000]) %}',
  '{% [1..3000].([1..3000]) %}',
];

/** Expressions that do not parse. */
const BROKEN_EXPRESSIONS = [
  '{% $steps. %}',
  '{% (( %}',
  '{% function( %}',
  '{% $input.[ %}',
  '{% "unterminated %}',
];

/** The definition corpus: `count` cases from `seed`, mixing every kind. */
export function definitionCorpus(seed: number, count: number): FuzzCase[] {
  const rng = new Rng(seed);
  const cases: FuzzCase[] = [];
  const make: Record<FuzzKind, (i: number) => FuzzCase> = {
    wrongType: (i) => ({ name: `wrongType-${i}`, kind: 'wrongType', body: mutate(rng), invalid: false }),
    deep: (i) => {
      const depth = rng.pick([33, 64, 1000, 5000]);
      const where = rng.int(0, 2);
      const asArray = rng.chance(0.5);
      const def = baseDefinition();
      const marker = '"__DEEP__"';
      if (where === 0) (def.steps as Record<string, unknown>[])[0].parameters = { deep: '__DEEP__' };
      else if (where === 1) def.output = '__DEEP__';
      else def.triggers = [{ type: 'event', subject: 'events.fuzz.deep', condition: { all: ['__DEEP__'] } }];
      // Built as text: serialising thousands of levels recursively would exhaust the stack of the sender.
      const text = JSON.stringify(def).replace(marker, nestedText(depth, asArray));
      const yaml = rng.chance(0.3);
      return {
        name: `deep-${depth}-${i}`,
        kind: 'deep',
        body: undefined,
        raw: { contentType: yaml ? 'application/yaml' : 'application/json', data: text },
        invalid: true,
        expectRule: 'maxDepth',
      };
    },
    huge: (i) => {
      const variant = rng.int(0, 3);
      const def = baseDefinition();
      if (variant === 0) {
        def.steps = Array.from({ length: rng.int(501, 800) }, (_, k) => ({
          id: `s${k}`,
          type: 'task',
          action: 'fuzz.work',
        }));
        return { name: `huge-steps-${i}`, kind: 'huge', body: def, invalid: true, expectRule: 'limit' };
      }
      if (variant === 1) {
        def.name = 'n'.repeat(rng.int(300, 5000));
        return { name: `huge-name-${i}`, kind: 'huge', body: def, invalid: true };
      }
      if (variant === 2) {
        def.triggers = Array.from({ length: rng.int(21, 60) }, () => ({
          type: 'event',
          subject: 'events.fuzz.t',
        }));
        return { name: `huge-triggers-${i}`, kind: 'huge', body: def, invalid: true, expectRule: 'limit' };
      }
      const deps = Array.from({ length: rng.int(101, 300) }, (_, k) => `d${k}`);
      (def.steps as Record<string, unknown>[])[1].dependencies = deps;
      return { name: `huge-dependencies-${i}`, kind: 'huge', body: def, invalid: true, expectRule: 'limit' };
    },
    invalidUtf8: (i) => {
      const data = invalidUtf8(rng);
      return {
        name: `invalidUtf8-${i}`,
        kind: 'invalidUtf8',
        body: undefined,
        raw: { contentType: rng.pick(['application/json', 'application/yaml']), data },
        invalid: false,
      };
    },
    cycle: (i) => ({
      name: `cycle-${i}`,
      kind: 'cycle',
      body: cyclic(rng),
      invalid: true,
      expectRule: 'cycle',
    }),
    fanOut: (i) => {
      const def = baseDefinition();
      const variant = rng.int(0, 2);
      if (variant === 0) {
        (def.steps as unknown[]).push({
          id: 'fan',
          type: 'parallel',
          action: 'fuzz.work',
          parameters: { items: '{% [1..100000000] %}', maxConcurrency: rng.pick([0, -1, 1001, 1e9]) },
        });
        return { name: `fanOut-concurrency-${i}`, kind: 'fanOut', body: def, invalid: true };
      }
      if (variant === 1) {
        (def.steps as unknown[]).push({
          id: 'fan',
          type: 'parallel',
          action: 'fuzz.work',
          parameters: { items: rng.pick(['abc', 42, { a: 1 }, null]), maxConcurrency: 10 },
        });
        return {
          name: `fanOut-items-${i}`,
          kind: 'fanOut',
          body: def,
          invalid: true,
        };
      }
      // Every one of 500+ steps depending on one root.
      def.steps = [
        { id: 'root', type: 'task', action: 'fuzz.work' },
        ...Array.from({ length: rng.int(500, 700) }, (_, k) => ({
          id: `leaf${k}`,
          type: 'task',
          action: 'fuzz.work',
          dependencies: ['root'],
        })),
      ];
      return { name: `fanOut-leaves-${i}`, kind: 'fanOut', body: def, invalid: true, expectRule: 'limit' };
    },
    jsonata: (i) => {
      const def = baseDefinition();
      const broken = rng.chance(0.5);
      const expression = broken ? rng.pick(BROKEN_EXPRESSIONS) : rng.pick(HOSTILE_EXPRESSIONS);
      (def.steps as Record<string, unknown>[])[0].parameters = { n: expression };
      // A hostile expression parses: the definition is valid and the evaluation must be bounded.
      return broken
        ? {
            name: `jsonata-broken-${i}`,
            kind: 'jsonata',
            body: def,
            invalid: true,
            expectRule: 'expressionSyntax',
          }
        : { name: `jsonata-hostile-${i}`, kind: 'jsonata', body: def, invalid: false };
    },
    garbage: (i) => {
      const variant = rng.int(0, 3);
      if (variant === 0)
        return { name: `garbage-value-${i}`, kind: 'garbage', body: randomValue(rng), invalid: true };
      if (variant === 1) {
        const text = rng.pick([
          '{',
          '{"id":',
          '[1,2',
          '{"a":1}}',
          'null',
          '"str"',
          '{"id":"x",,}',
          '\u0000{}',
        ]);
        return {
          name: `garbage-json-${i}`,
          kind: 'garbage',
          body: undefined,
          raw: { contentType: 'application/json', data: text },
          invalid: true,
        };
      }
      if (variant === 2) {
        const text = rng.pick([
          'id: [',
          'a: b: c',
          '- - -\n  x: :',
          'key: value\nkey: again',
          '!!binary AAAA',
          '{',
          'x: .inf',
        ]);
        return {
          name: `garbage-yaml-${i}`,
          kind: 'garbage',
          body: undefined,
          raw: { contentType: 'application/yaml', data: text },
          invalid: true,
        };
      }
      return {
        name: `garbage-text-${i}`,
        kind: 'garbage',
        body: undefined,
        raw: { contentType: 'application/yaml', data: rng.string(200) || 'x' },
        invalid: true,
      };
    },
    yamlBomb: (i) => {
      const levels = rng.int(5, 9);
      const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let k = 1; k <= levels; k++)
        lines.push(
          `a${k}: &a${k} [${Array(9)
            .fill(`*a${k - 1}`)
            .join(',')}]`,
        );
      lines.push(
        `id: bomb\nversion: 1\nsteps: [{ id: s, type: task, action: fuzz.work, parameters: { x: *a${levels} } }]`,
      );
      return {
        name: `yamlBomb-${i}`,
        kind: 'yamlBomb',
        body: undefined,
        raw: { contentType: 'application/yaml', data: lines.join('\n') },
        invalid: true,
      };
    },
  };
  const kinds = Object.keys(make) as FuzzKind[];
  for (let i = 0; i < count; i++) cases.push(make[kinds[i % kinds.length]](i));
  return cases;
}

/** Bodies of `POST /v1/workflows/:id/executions` that must be rejected (or, when valid, accepted). */
export function startRequestCorpus(
  seed: number,
  count: number,
): { name: string; body: unknown; raw?: string }[] {
  const rng = new Rng(seed);
  const fixed: { name: string; body: unknown; raw?: string }[] = [
    { name: 'executionId-number', body: { executionId: 42 } },
    { name: 'executionId-dots', body: { executionId: 'a.b.c' } },
    { name: 'executionId-wildcard', body: { executionId: '>' } },
    { name: 'executionId-long', body: { executionId: 'x'.repeat(500) } },
    { name: 'version-zero', body: { version: 0 } },
    { name: 'version-string', body: { version: '1' } },
    { name: 'version-float', body: { version: 1.5 } },
    { name: 'unknown-field', body: { input: {}, extra: true } },
    { name: 'array-body', body: [1, 2, 3] },
    { name: 'deep-input', body: undefined, raw: `{"input":${nestedText(200, false)}}` },
    { name: 'huge-input', body: { input: { blob: 'x'.repeat(2 * 1024 * 1024) } } },
    { name: 'not-json', body: undefined, raw: '{"input": ' },
    { name: 'invalid-utf8', body: undefined, raw: '{"input":"\udc00"}' },
  ];
  const out = [...fixed];
  for (let i = 0; out.length < count; i++) out.push({ name: `random-${i}`, body: randomValue(rng) });
  return out.slice(0, count);
}

/** Malformed events for the EVENTS stream: bytes to publish on `events.<subject>`. */
export function eventCorpus(seed: number, count: number): { name: string; data: Uint8Array }[] {
  const rng = new Rng(seed);
  const enc = (s: string) => new TextEncoder().encode(s);
  const fixed: { name: string; data: Uint8Array }[] = [
    { name: 'not-json', data: enc('{"id": ') },
    {
      name: 'invalid-utf8',
      data: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    },
    { name: 'empty', data: new Uint8Array() },
    { name: 'deep', data: enc(nestedText(5000, true)) },
    { name: 'huge', data: enc(JSON.stringify({ blob: 'x'.repeat(300 * 1024) })) },
    { name: 'number', data: enc('42') },
    { name: 'null', data: enc('null') },
    { name: 'array', data: enc('[1,2,3]') },
    { name: 'proto', data: enc('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') },
  ];
  const out = [...fixed];
  for (let i = 0; out.length < count; i++) {
    out.push({ name: `random-${i}`, data: enc(JSON.stringify(randomValue(rng)) ?? 'null') });
  }
  return out.slice(0, count);
}
