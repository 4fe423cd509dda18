import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeSettings } from '../../src';
import { renderEnvExample } from '../../src/config/env-example';

describe('.env.example', () => {
  it('matches the settings classes (regenerate with node -r ts-node/register scripts/env-example.ts)', () => {
    expect(readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8')).toBe(renderEnvExample());
  });

  it('explains every variable with its default', () => {
    for (const setting of describeSettings()) expect(setting.description).toMatch(/Default: /);
  });
});
