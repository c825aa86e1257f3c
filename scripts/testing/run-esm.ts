import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Repository root (scripts/testing/..). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Runs `source` as an ES module in a fresh Node process (cwd = repository root) and returns the JSON value
 * it prints on its last stdout line. The scripts under scripts/ are ES modules, which Jest's CommonJS
 * runtime cannot load, so their tests drive them through a child process. `input` is JSON on stdin.
 */
export function runEsm<T>(source: string, input?: unknown, timeoutMs = 60_000): T {
  const result = spawnSync(process.execPath, ['--input-type=module', '-'], {
    cwd: REPO_ROOT,
    input: `const __input = ${JSON.stringify(input ?? null)};\n${source}`,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(
      `ES module child exited with ${result.status ?? result.signal}:\n${result.stderr}\n${result.stdout}`,
    );
  }
  const lines = result.stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  if (last === undefined || last === '')
    throw new Error(`ES module child printed nothing:\n${result.stderr}`);
  return JSON.parse(last) as T;
}
