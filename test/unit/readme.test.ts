import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeSettings, loadConfig } from '../../src';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const scripts = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

/** Fenced code blocks of the README with their language. */
function blocks(): { lang: string; code: string }[] {
  return [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

/** Lines without their indentation, so a snippet indented inside a test still matches. */
const dedent = (text: string) => text.split('\n').map((line) => line.trim()).join('\n').trim();

describe('README', () => {
  it('opens with the two set-up commands: install and run the main job, then the tests', () => {
    const first = blocks()[0]!;
    expect(first.lang).toBe('sh');
    expect(first.code.split('\n').filter(Boolean).map((l) => l.split('#')[0]!.trim())).toEqual(['npm install && npm start', 'npm test']);
  });

  it('shows TypeScript only as it stands, verbatim, in the file named on its first line', () => {
    const ts = blocks().filter((b) => b.lang === 'ts');
    expect(ts.length).toBeGreaterThanOrEqual(6);
    for (const block of ts) {
      const file = /^\/\/ (\S+)\n/.exec(block.code)?.[1];
      expect(file).toBeDefined();
      expect(existsSync(join(root, file!))).toBe(true);
      const body = block.code.slice(block.code.indexOf('\n') + 1);
      expect(dedent(readFileSync(join(root, file!), 'utf8'))).toContain(dedent(body));
    }
  });

  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(5);
    for (const script of named) expect(scripts).toContain(script);
  });

  it('sets only variables that bastion (or its test and bench runs) reads', () => {
    const known = new Set([...describeSettings().map((s) => s.name), 'TEST_DATABASE_URL', 'BENCH_ONLY', 'BENCH_SCALE', 'BENCH_DATABASE_URL']);
    const shell = blocks().filter((b) => b.lang === 'sh').map((b) => b.code).join('\n');
    const set = [...shell.matchAll(/^(?:[A-Z_]+=\S+ +)*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    expect(set.length).toBeGreaterThan(10);
    for (const name of set) expect(known).toContain(name);
  });

  it('quotes the ConfigError that loadConfig really throws', () => {
    const quoted = blocks().find((b) => b.lang === 'text' && b.code.startsWith('ConfigError'))!.code.trim();
    let thrown = '';
    try {
      loadConfig({ DATABASE_URL: 'postgres://app@db.internal:5432/ledger', DB_HOST: 'other.internal', DB_POOL_MAX: 'many' });
    } catch (error) {
      thrown = String(error);
    }
    const lines = (text: string) => text.split('\n').map((l) => l.trim()).sort();
    expect(lines(thrown)).toEqual(lines(quoted));
  });

  it('shows the health report of the tunnel with the fields health() has', () => {
    const json = blocks().find((b) => b.lang === 'json')!.code;
    const parsed = JSON.parse(`{${json}}`) as { tunnel: Record<string, unknown> };
    expect(Object.keys(parsed.tunnel).sort()).toEqual(['bastion', 'lastError', 'openChannels', 'reconnects', 'status']);
  });

  it('links only to files that exist', () => {
    for (const [, target] of readme.matchAll(/\]\(([^)#:]+)\)/g)) expect(existsSync(join(root, target!))).toBe(true);
  });
});
