// Shared Jest settings: SWC transform (decorator metadata on), @baton/* mapped to sources.
const { readFileSync } = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.exclude;
delete swcrc.$schema;
swcrc.jsc.baseUrl = __dirname;

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(swcrc.jsc.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = path.join(__dirname, target);
}
delete swcrc.jsc.paths;
delete swcrc.jsc.baseUrl;

// NestJS 12 and some of its dependencies ship ES modules only. Node runs them through require(esm), but
// Jest on Node 20 cannot, so Jest compiles those packages to CommonJS with SWC like our own sources.
const ESM_PACKAGES = ['@nestjs', 'nestjs-pino', 'uid', 'load-esm', 'file-type', 'strtok3', 'token-types', 'peek-readable', '@tokenizer', 'uint8array-extras'];
const esmJs = {
  swcrc: false,
  sourceMaps: 'inline',
  module: { type: 'commonjs', strictMode: true },
  jsc: { target: 'es2022', parser: { syntax: 'ecmascript' }, keepClassNames: true },
};

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }],
    '^.+\\.(m?js)$': ['@swc/jest', esmJs],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
