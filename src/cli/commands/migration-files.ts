import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UsageError } from '../usage-error';

/** One statement of a generated migration. */
export interface MigrationStatement {
  readonly query: string;
  readonly parameters?: unknown[];
}

/** `add ledger index` / `AddLedgerIndex` / `add-ledger-index` → `AddLedgerIndex`. */
export function migrationClassBase(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9 _-]*$/.test(name)) {
    throw new UsageError(`"${name}" is not a usable migration name: use letters, digits, spaces, - or _, starting with a letter.`);
  }
  return name
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** Writes `<dir>/<timestamp>-<Name>.ts` with the given statements (or empty up/down); returns its path. */
export function writeMigrationFile(
  dir: string,
  name: string,
  up: readonly MigrationStatement[],
  down: readonly MigrationStatement[],
  timestamp = Date.now(),
): string {
  const base = migrationClassBase(name);
  const className = `${base}${timestamp}`;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${timestamp}-${base}.ts`);
  if (existsSync(path)) throw new UsageError(`${relative(process.cwd(), path)} already exists.`);
  const body = (statements: readonly MigrationStatement[], hint: string) =>
    statements.length === 0
      ? `    // ${hint}\n`
      : statements.map((s) => `    await queryRunner.query(${literal(s.query)}${s.parameters?.length ? `, ${JSON.stringify(s.parameters)}` : ''});\n`).join('');
  writeFileSync(
    path,
    `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${body(up, "await queryRunner.query('CREATE TABLE …');")}  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${body(down, 'undo exactly what up() did, in reverse order')}  }
}
`,
  );
  return path;
}

function literal(sql: string): string {
  return `\`${sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;
}
