/**
 * Whether dist/ is current: every TypeScript source that SWC compiles (apps, libs, examples; .swcrc's
 * `exclude` patterns apply) has its `dist/<same path>.js`, no older than the source, and no build
 * setting changed after the oldest output.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SOURCE_DIRS = ['apps', 'libs', 'examples'];
const SETTINGS = ['.swcrc', 'tsconfig.base.json'];

/**
 * @param {string} dir absolute
 * @param {(file: string) => boolean} keep
 * @param {string[]} out
 */
function walk(dir, keep, out) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, keep, out);
    else if (keep(full)) out.push(full);
  }
  return out;
}

/**
 * The first reason to rebuild, or null when dist/ is current.
 * @param {string} root repository root
 * @param {string[]} [requiredOutputs] outputs that must exist (relative to root), e.g. the services' main.js
 * @returns {string | null}
 */
export function staleReason(root, requiredOutputs = []) {
  const swcrc = JSON.parse(readFileSync(path.join(root, '.swcrc'), 'utf8'));
  const excludes = (swcrc.exclude ?? []).map((/** @type {string} */ p) => new RegExp(p));
  const isCompiled = (/** @type {string} */ file) =>
    file.endsWith('.ts') &&
    !file.endsWith('.d.ts') &&
    !excludes.some((/** @type {RegExp} */ re) => re.test(file));

  for (const required of requiredOutputs) {
    if (!existsSync(path.join(root, required))) return `${required} is missing`;
  }
  let oldestOutput = Infinity;
  for (const dir of SOURCE_DIRS) {
    for (const source of walk(path.join(root, dir), isCompiled, [])) {
      const rel = path.relative(root, source);
      const output = path.join(root, 'dist', rel.replace(/\.ts$/, '.js'));
      if (!existsSync(output)) return `dist/${rel.replace(/\.ts$/, '.js')} is missing`;
      const outputTime = statSync(output).mtimeMs;
      if (statSync(source).mtimeMs > outputTime) return `${rel} changed since it was compiled`;
      oldestOutput = Math.min(oldestOutput, outputTime);
    }
  }
  for (const setting of SETTINGS) {
    const file = path.join(root, setting);
    if (existsSync(file) && statSync(file).mtimeMs > oldestOutput)
      return `${setting} changed since the last build`;
  }
  return null;
}
