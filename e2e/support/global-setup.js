// Builds the services once before the e2e suites spawn them from dist/.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  if (process.env.BATON_E2E_SKIP_BUILD === '1') return;
  execFileSync('npm', ['run', '--silent', 'build'], {
    cwd: path.join(__dirname, '..', '..'),
    stdio: 'inherit',
  });
};
