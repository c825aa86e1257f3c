import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { SCHEDULER_SERVICE } from './service.descriptor';

describe('SCHEDULER_SERVICE', () => {
  it('registers as baton-scheduler on port 8082 (CONTRACT §1) with the release version', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(SCHEDULER_SERVICE).toMatchObject({ name: 'scheduler', defaultPort: 8082, version: pkg.version });
    expect(SCHEDULER_SERVICE.description.length).toBeGreaterThan(0);
  });
});
