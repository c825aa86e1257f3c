import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SCRIPT = path.join(__dirname, 'lock-platforms.mjs');

function run(file: string): string {
  return execFileSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' }).trim();
}

describe('scripts/lock-platforms.mjs', () => {
  it('finds the repository lock file complete, so `npm ci` accepts it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lock-'));
    try {
      const copy = path.join(dir, 'package-lock.json');
      writeFileSync(copy, readFileSync(path.join(__dirname, '..', 'package-lock.json')));
      expect(run(copy)).toBe('lock file complete');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adds missing optional platform packages with the os, cpu and libc their names state', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lock-'));
    try {
      const file = path.join(dir, 'package-lock.json');
      writeFileSync(
        file,
        JSON.stringify({
          lockfileVersion: 3,
          packages: {
            '': { name: 'x' },
            'node_modules/native': {
              version: '1.0.0',
              optionalDependencies: {
                'native-darwin-arm64': '1.0.0',
                'native-linux-x64-musl': '1.0.0',
                'native-linux-x64-gnu': '1.0.0',
                'native-wasm': '1.0.0',
              },
            },
            'node_modules/native-linux-x64-gnu': { version: '1.0.0', optional: true },
          },
        }),
      );
      expect(run(file)).toBe('added 2: native-darwin-arm64@1.0.0, native-linux-x64-musl@1.0.0');
      const lock = JSON.parse(readFileSync(file, 'utf8')) as { packages: Record<string, unknown> };
      expect(lock.packages['node_modules/native-darwin-arm64']).toEqual({
        version: '1.0.0',
        optional: true,
        os: ['darwin'],
        cpu: ['arm64'],
      });
      expect(lock.packages['node_modules/native-linux-x64-musl']).toMatchObject({ os: ['linux'], libc: ['musl'] });
      expect(lock.packages['node_modules/native-wasm']).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
