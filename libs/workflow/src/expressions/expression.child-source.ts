/**
 * Source of an evaluator process (run with `node -e`). It reads the path of the `jsonata` module and its
 * limits from argv, says `{ ready: true }`, then answers each `{ id, body, bindings }` (bindings as JSON
 * text) with `{ id, ok: true, json? }` or `{ id, ok: false, kind, message, code?, position? }`. It exits when
 * its parent goes away (IPC disconnect). Plain CommonJS on purpose: it runs as is, outside any build.
 * @internal
 */
export const EVALUATOR_CHILD_SOURCE = String.raw`
'use strict';
const jsonata = require(process.argv[1]);
const limits = JSON.parse(process.argv[2]);
const cache = new Map();

function compile(body) {
  let expr = cache.get(body);
  if (expr !== undefined) {
    cache.delete(body);
    cache.set(body, expr);
    return expr;
  }
  expr = jsonata(body, { timeout: limits.timeoutMs, stack: limits.maxDepth });
  cache.set(body, expr);
  if (cache.size > limits.cacheSize) cache.delete(cache.keys().next().value);
  return expr;
}

function replacer(_key, value) {
  if (typeof value === 'function') return undefined;
  if (value !== null && typeof value === 'object' && (value._jsonata_lambda === true || value._jsonata_function === true)) {
    return undefined;
  }
  return value;
}

function reply(message) {
  if (process.connected) process.send(message);
}

async function run(job) {
  const expr = compile(job.body);
  const result = await expr.evaluate(undefined, JSON.parse(job.bindings));
  let json;
  try {
    json = result === undefined ? undefined : JSON.stringify(result, replacer);
  } catch (err) {
    reply({ id: job.id, ok: false, kind: 'notSerialisable', message: String(err && err.message) });
    return;
  }
  if (json !== undefined && Buffer.byteLength(json) > limits.maxResultBytes) {
    reply({ id: job.id, ok: false, kind: 'resultTooLarge', message: String(Buffer.byteLength(json)) });
    return;
  }
  reply({ id: job.id, ok: true, json });
}

process.on('disconnect', () => process.exit(0));
process.on('message', (job) => {
  run(job).catch((err) => {
    const e = err !== null && typeof err === 'object' ? err : {};
    reply({
      id: job.id,
      ok: false,
      kind: 'error',
      message: typeof e.message === 'string' && e.message.length > 0 ? e.message : String(err),
      code: typeof e.code === 'string' ? e.code : undefined,
      position: typeof e.position === 'number' ? e.position : undefined,
    });
  });
});
reply({ ready: true });
`;
