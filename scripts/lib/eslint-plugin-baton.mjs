/**
 * Baton's own ESLint rules (no third-party import plugin needed).
 *
 * `baton/import-order`: imports come in groups, in this order:
 *   1. Node built-ins (`node:fs`, `fs`)
 *   2. `@nestjs/*`
 *   3. other packages (`rxjs`, `@nats-io/jetstream`)
 *   4. workspace libraries (`@baton/*`)
 *   5. relative paths (`./x`, `../y`)
 * Side-effect imports (`import 'reflect-metadata'`), imports of `./instrumentation` (which starts
 * OpenTelemetry, so it stays first in main.ts) and any other statement between imports are barriers:
 * their position is meaningful, so groups are only compared between two barriers. The fix reorders one run
 * of imports when it holds no comments (a comment could belong to either neighbour, so it is left to a human).
 */
import { builtinModules } from 'node:module';

/** Group names in their required order. */
export const IMPORT_GROUPS = ['builtin', '@nestjs', 'external', '@baton', 'relative'];

const BUILTINS = new Set(builtinModules);

/**
 * The group of an import source.
 * @param {string} source module specifier as written
 * @returns {number} index into IMPORT_GROUPS
 */
export function importGroup(source) {
  if (source.startsWith('.') || source.startsWith('/')) return 4;
  if (source.startsWith('node:') || BUILTINS.has(source) || BUILTINS.has(source.split('/')[0])) return 0;
  if (source.startsWith('@nestjs/')) return 1;
  if (source.startsWith('@baton/')) return 3;
  return 2;
}

/** `./instrumentation` starts OpenTelemetry, which must happen before anything else is loaded. */
const INSTRUMENTATION = /(^|\/)instrumentation$/;

/** @param {import('estree').Node} node */
function isOrderedImport(node) {
  return (
    node.type === 'ImportDeclaration' &&
    typeof node.source.value === 'string' &&
    node.specifiers.length > 0 &&
    !INSTRUMENTATION.test(node.source.value)
  );
}

/** @type {import('eslint').Rule.RuleModule} */
const importOrder = {
  meta: {
    type: 'suggestion',
    fixable: 'code',
    docs: { description: 'Group imports: built-ins, @nestjs, packages, @baton, relative' },
    schema: [],
    messages: {
      order:
        "Import of '{{source}}' ({{group}}) must come before imports of {{after}}: order is builtin, @nestjs, external, @baton, relative.",
    },
  },
  create(context) {
    const sourceCode = context.sourceCode;

    /** @param {import('estree').ImportDeclaration[]} run */
    function checkRun(run) {
      if (run.length < 2) return;
      let maxGroup = -1;
      let fixOffered = false;
      for (const node of run) {
        const group = importGroup(String(node.source.value));
        if (group < maxGroup) {
          const canFix =
            !fixOffered &&
            sourceCode
              .getAllComments()
              .every((c) => c.range[1] <= run[0].range[0] || c.range[0] >= run[run.length - 1].range[1]);
          context.report({
            node,
            messageId: 'order',
            data: {
              source: String(node.source.value),
              group: IMPORT_GROUPS[group],
              after: IMPORT_GROUPS[maxGroup],
            },
            fix: canFix
              ? (fixer) => {
                  const sorted = run
                    .map((n, i) => ({ n, i, g: importGroup(String(n.source.value)) }))
                    .sort((a, b) => a.g - b.g || a.i - b.i)
                    .map(({ n }) => sourceCode.getText(n));
                  return fixer.replaceTextRange(
                    [run[0].range[0], run[run.length - 1].range[1]],
                    sorted.join('\n'),
                  );
                }
              : null,
          });
          fixOffered = true;
        } else {
          maxGroup = group;
        }
      }
    }

    return {
      Program(program) {
        /** @type {import('estree').ImportDeclaration[]} */
        let run = [];
        for (const node of program.body) {
          if (isOrderedImport(node)) {
            run.push(/** @type {import('estree').ImportDeclaration} */ (node));
          } else {
            checkRun(run);
            run = [];
          }
        }
        checkRun(run);
      },
    };
  },
};

/** The plugin object, registered as `baton` in eslint.config.mjs. */
const plugin = {
  meta: { name: 'eslint-plugin-baton', version: '1.0.0' },
  rules: { 'import-order': importOrder },
};

export default plugin;
