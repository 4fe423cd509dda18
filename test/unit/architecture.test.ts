import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = join(__dirname, '..', '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Top-level part of src/ a file belongs to (`errors`, `config`, …; `index` for src/index.ts). */
function partOf(file: string): string {
  const rel = relative(src, file);
  return rel.includes('/') ? rel.split('/')[0]! : 'index';
}

const edges = new Map<string, Set<string>>();
const outside: string[] = [];
for (const file of files(src)) {
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
    const target = resolve(dirname(file), match[1]!);
    if (!target.startsWith(src)) {
      outside.push(`${relative(src, file)} -> ${match[1]}`);
      continue;
    }
    const from = partOf(file);
    const to = partOf(`${target}.ts`);
    if (from !== to) {
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
}

describe('dependency rules of src/ (docs/DESIGN.md)', () => {
  it('never imports the sample domain or anything outside src/', () => {
    expect(outside).toEqual([]);
  });

  it('keeps errors/ free of other parts, config/ on errors/ only, and the ambient context standalone', () => {
    expect([...(edges.get('errors') ?? [])]).toEqual([]);
    for (const to of edges.get('config') ?? []) expect(to).toBe('errors');
    expect([...(edges.get('context') ?? [])]).toEqual([]);
  });

  it('has no two parts importing each other', () => {
    const cycles: string[] = [];
    for (const [from, tos] of edges) for (const to of tos) if (edges.get(to)?.has(from) && from < to) cycles.push(`${from} <-> ${to}`);
    expect(cycles).toEqual([]);
  });
});
