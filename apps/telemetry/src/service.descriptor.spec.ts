import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { TELEMETRY_SERVICE } from './service.descriptor';

describe('TELEMETRY_SERVICE', () => {
  it('registers as baton-telemetry on port 8085 (CONTRACT §1) with the release version', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(TELEMETRY_SERVICE).toMatchObject({ name: 'telemetry', defaultPort: 8085, version: pkg.version });
    expect(TELEMETRY_SERVICE.description.length).toBeGreaterThan(0);
  });
});
