import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { RULE_ENGINE_SERVICE } from './service.descriptor';

describe('RULE_ENGINE_SERVICE', () => {
  it('registers as baton-rule-engine on port 8083 (CONTRACT §1) with the release version', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(RULE_ENGINE_SERVICE).toMatchObject({
      name: 'rule-engine',
      defaultPort: 8083,
      version: pkg.version,
    });
    expect(RULE_ENGINE_SERVICE.description.length).toBeGreaterThan(0);
  });
});
