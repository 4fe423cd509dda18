import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from '../../src';

const root = join(__dirname, '..', '..');
const design = readFileSync(join(root, 'docs', 'DESIGN.md'), 'utf8');
const indexSource = readFileSync(join(root, 'src', 'index.ts'), 'utf8');

/** Names that DESIGN.md's Public API promises, read from its code block. */
function promisedNames(): string[] {
  const section = design.slice(design.indexOf('## Public API'), design.indexOf('## How the parts meet'));
  const code = section.slice(section.indexOf('```ts') + 5, section.lastIndexOf('```'));
  const foreign = new Set([
    'Promise', 'Function', 'NodeJS', 'ProcessEnv', 'Partial', 'DataSource', 'QueryRunner', 'EntityManager', 'Repository',
    'EntityTarget', 'ObjectLiteral', 'T', 'R', 'Logger', 'DESC', 'NULLS', 'FIRST', 'READ', 'COMMITTED', 'REPEATABLE',
    'SERIALIZABLE', 'ANALYTICS_', 'ANALYTICS_DATABASE_URL', 'ANALYTICS_DB_POOL_MAX', 'REQUIRED', 'REQUIRES_NEW',
    'NESTED', 'MANDATORY', 'NEVER', 'SUPPORTS', 'NOT_SUPPORTED', 'DB_ENTITIES', 'DB_MIGRATIONS',
  ]);
  const names = new Set<string>();
  for (const line of code.split('\n')) {
    const text = line.replace(/\/\/.*$/, '');
    for (const match of text.matchAll(/\b([A-Z][A-Za-z_]+)\b/g)) if (!foreign.has(match[1]!)) names.add(match[1]!);
    // Top-level functions only: indented lines are members of a class.
    const fn = /^@?([a-z][A-Za-z]+)(?:<\w+>)?\(/.exec(text);
    if (fn) names.add(fn[1]!);
    for (const hook of text.matchAll(/\b(run\w+)\(fn\)/g)) names.add(hook[1]!);
  }
  return [...names].sort();
}

/** Names whose issue has not landed yet: each must really be missing, so this list only ever shrinks. */
const NOT_YET: Record<string, string> = {
};

function isExported(name: string): boolean {
  if (name in api) return true;
  return new RegExp(`export type \\{[^}]*\\b${name}\\b[^}]*\\}`).test(indexSource);
}

describe('public API (src/index.ts) against docs/DESIGN.md', () => {
  const names = promisedNames();

  it('reads the promised names from DESIGN.md', () => {
    expect(names).toEqual(expect.arrayContaining(['Database', 'createDataSource', 'loadConfig', 'DatabaseOptions', 'HealthReport', 'ConfigError', 'RollbackOnlyError']));
  });

  it.each(names.filter((n) => !(n in NOT_YET)))('exports %s', (name) => {
    expect(isExported(name)).toBe(true);
  });

  it('lists as pending only names that are really still missing', () => {
    expect(Object.keys(NOT_YET).filter(isExported)).toEqual([]);
  });

  it('exports only named exports, no barrels', () => {
    expect(indexSource).not.toMatch(/export \* from/);
  });

  it('exports classes for every error in the hierarchy', () => {
    const errorNames = names.filter((n) => n.endsWith('Error'));
    expect(errorNames.length).toBeGreaterThanOrEqual(20);
    for (const name of errorNames) {
      const ctor = (api as Record<string, unknown>)[name] as { prototype: unknown };
      expect(ctor.prototype).toBeInstanceOf(api.BastionError);
    }
  });
});
