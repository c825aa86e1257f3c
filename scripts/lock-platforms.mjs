#!/usr/bin/env node
// Adds to package-lock.json the entries of other platforms' optional native packages (e.g.
// @swc/core-darwin-arm64) that `npm install` leaves out when the registry in use does not serve them.
// Without those entries `npm ci` refuses the lock ("Missing: ... from lock file") on every machine.
// Each entry gets the version its parent asks for and the os/cpu/libc its name states, so npm skips it
// on other platforms and fetches it by name on its own. Run after `npm install`:
//   node scripts/lock-platforms.mjs && npm install   (the second run normalises the file; check `npm ci`)
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORM =
  /(darwin|linux|win32|android|freebsd|openharmony|sunos|aix)-(arm64|x64|arm|ppc64|s390x|ia32|loong64|riscv64|wasm32)(?:-(gnueabihf|musleabihf|gnu|musl|msvc|eabi))?$/;

export function platformOf(name) {
  const m = PLATFORM.exec(name.split('/').pop() ?? '');
  if (!m) return undefined;
  const [, os, cpu, abi] = m;
  const out = { os: [os], cpu: [cpu] };
  if (os === 'linux' && (abi === 'gnu' || abi === 'gnueabihf')) out.libc = ['glibc'];
  if (os === 'linux' && (abi === 'musl' || abi === 'musleabihf')) out.libc = ['musl'];
  return out;
}

export function addMissingPlatformEntries(lock) {
  const packages = lock.packages ?? {};
  const added = [];
  for (const meta of Object.values(packages)) {
    for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
      const key = `node_modules/${name}`;
      if (packages[key] !== undefined) continue;
      const platform = platformOf(name);
      if (platform === undefined) continue;
      packages[key] = { version, optional: true, ...platform };
      added.push(`${name}@${version}`);
    }
  }
  return added;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? 'package-lock.json';
  const lock = JSON.parse(readFileSync(file, 'utf8'));
  const added = addMissingPlatformEntries(lock);
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(added.length === 0 ? 'lock file complete' : `added ${added.length}: ${added.join(', ')}`);
}
