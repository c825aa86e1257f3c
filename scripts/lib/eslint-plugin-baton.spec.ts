import { runEsm } from '../testing/run-esm';

interface Result {
  messages: { line: number; message: string }[];
  fixed: string;
}

const samples: string[] = [];
let results: Result[] | undefined;

/**
 * Lints `code` with only baton/import-order and also returns the auto-fixed text. Every sample of the file
 * is registered at collection time and linted in one child process (loading the parser is the slow part).
 */
function lint(code: string): () => Result {
  const index = samples.push(code) - 1;
  return () => {
    results ??= runEsm<Result[]>(
      `
      import { Linter } from 'eslint';
      import tseslint from 'typescript-eslint';
      import baton from './scripts/lib/eslint-plugin-baton.mjs';
      const config = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { baton }, rules: { 'baton/import-order': 'error' } }];
      const linter = new Linter({ configType: 'flat' });
      const out = __input.map((code) => ({
        messages: linter.verify(code, config, { filename: 'sample.ts' }).map((m) => ({ line: m.line, message: m.message })),
        fixed: linter.verifyAndFix(code, config, { filename: 'sample.ts' }).output,
      }));
      console.log(JSON.stringify(out));
    `,
      samples,
    );
    return results[index]!;
  };
}

describe('baton/import-order', () => {
  const accepted = lint(
    [
      "import { readFileSync } from 'node:fs';",
      "import path from 'path';",
      "import { Injectable } from '@nestjs/common';",
      "import type { ConfigType } from '@nestjs/config';",
      "import { jetstream } from '@nats-io/jetstream';",
      "import { z } from 'zod';",
      "import { Subjects } from '@baton/contracts';",
      "import { helper } from '../helper';",
      "import { local } from './local';",
      'export const all = [readFileSync, path, Injectable, jetstream, z, Subjects, helper, local];',
      'export type C = ConfigType<() => object>;',
    ].join('\n'),
  );
  it('accepts builtin, @nestjs, external, @baton, relative', () => {
    expect(accepted().messages).toEqual([]);
  });

  const misordered = lint(
    [
      "import { Subjects } from '@baton/contracts';",
      "import { z } from 'zod';",
      "import { local } from './local';",
      "import { readFileSync } from 'node:fs';",
      'export const all = [Subjects, z, local, readFileSync];',
    ].join('\n'),
  );
  it('reports an import that comes after a later group, and fixes the order', () => {
    const result = misordered();
    expect(result.messages.map((m) => m.line)).toEqual([2, 4]);
    expect(result.messages[0]!.message).toMatch(/'zod' \(external\) must come before imports of @baton/);
    expect(result.fixed).toBe(
      [
        "import { readFileSync } from 'node:fs';",
        "import { z } from 'zod';",
        "import { Subjects } from '@baton/contracts';",
        "import { local } from './local';",
        'export const all = [Subjects, z, local, readFileSync];',
      ].join('\n'),
    );
  });

  const sideEffects = lint(
    [
      "import './instrumentation';",
      "import { NestFactory } from '@nestjs/core';",
      "import 'reflect-metadata';",
      "import { readFileSync } from 'node:fs';",
      'export const all = [NestFactory, readFileSync];',
    ].join('\n'),
  );
  const instrumentationFirst = lint(
    [
      "import { telemetry } from './instrumentation';",
      '',
      "import { runService } from '@baton/service-kit';",
      '',
      "import { AppModule } from './app.module';",
      'export const all = [telemetry, runService, AppModule];',
    ].join('\n'),
  );
  it('keeps ./instrumentation first, as main.ts needs', () => {
    expect(instrumentationFirst().messages).toEqual([]);
  });

  it('treats side-effect imports as fixed points', () => {
    expect(sideEffects().messages).toEqual([]);
  });

  const commented = [
    "import { local } from './local';",
    '// the driver',
    "import { Client } from 'pg';",
    'export const all = [local, Client];',
  ].join('\n');
  const withComment = lint(commented);
  it('reports but does not reorder imports with comments among them', () => {
    const result = withComment();
    expect(result.messages.map((m) => m.line)).toEqual([3]);
    expect(result.fixed).toBe(commented);
  });
});
