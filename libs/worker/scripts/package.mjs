#!/usr/bin/env node
/**
 * Assembles the publishable `@baton/worker` package (default: dist/packages/worker, or the directory given
 * as the first argument): the SDK and the contracts it uses, compiled by SWC keeping the repository tree
 * (so `@baton/contracts` becomes a relative require, as in every build of the repo), their declarations
 * from tsc, package.json and README.md. The result depends only on @nats-io/* and @opentelemetry/api:
 * `npm pack dist/packages/worker`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const out = resolve(root, process.argv[2] ?? 'dist/packages/worker');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

run(bin('swc'), ['libs/worker/src', 'libs/contracts/src', '-d', out, '--config-file', '.swcrc', '-q']);
run(bin('tsc'), ['-p', 'libs/worker/tsconfig.package.json', '--outDir', out]);

// Declarations keep the path alias: point it at the vendored contracts, as the JS does.
const contractsIndex = join(out, 'libs', 'contracts', 'src', 'index');
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.d.ts')) {
      let target = relative(dirname(path), contractsIndex);
      if (!target.startsWith('.')) target = `./${target}`;
      const text = readFileSync(path, 'utf8');
      const rewritten = text.replace(/(["'])@baton\/contracts\1/g, `'${target}'`);
      if (rewritten !== text) writeFileSync(path, rewritten);
    }
  }
}
walk(join(out, 'libs'));

copyFileSync(join(root, 'libs/worker/package.json'), join(out, 'package.json'));
copyFileSync(join(root, 'libs/worker/README.md'), join(out, 'README.md'));
process.stdout.write(`@baton/worker packaged in ${relative(root, out) || out}\n`);
