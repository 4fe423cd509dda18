import type { EntityManager } from 'typeorm';
import type { EntityShape } from './entity-shape';
import { runStatement } from './statement-runner';

/** What the catalog says about one column of an entity's table. */
export interface ColumnFacts {
  /** The default expression as PostgreSQL prints it (`now()`, `'0'::numeric`), or undefined without one. */
  readonly defaultExpression: string | undefined;
  /** GENERATED ALWAYS AS IDENTITY (a COPY cannot give it a value) or GENERATED … STORED. */
  readonly generatedAlways: boolean;
}

/**
 * What the database says about an entity's table that metadata cannot: whether COPY writes into it exactly like an
 * INSERT would (COPY fires triggers but not rules, and is refused under row-level security), the sequence behind
 * the primary key, and each column's default.
 */
export interface TableFacts {
  /** A plain or partitioned table without rules, user triggers or row-level security. */
  readonly copyLikeInsert: boolean;
  /** `schema.sequence` of a serial or identity primary key, else undefined. */
  readonly primarySequence: string | undefined;
  /** By column name; columns missing here are not in the table. */
  readonly columns: ReadonlyMap<string, ColumnFacts>;
}

interface FactsRow {
  relkind: string;
  relrowsecurity: boolean;
  has_rules: boolean;
  has_triggers: boolean;
  sequence: string | null;
  columns: { name: string; default: string | null; identity: string; generated: string }[];
}

const FACTS_SQL =
  'SELECT c.relkind, c.relrowsecurity, ' +
  "EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN') AS has_rules, " +
  'EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS has_triggers, ' +
  'pg_get_serial_sequence($1, $2) AS sequence, ' +
  "(SELECT json_agg(json_build_object('name', a.attname, 'default', pg_get_expr(d.adbin, d.adrelid), " +
  "'identity', a.attidentity, 'generated', a.attgenerated)) " +
  'FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum ' +
  'WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns ' +
  'FROM pg_class c WHERE c.oid = $1::regclass';

const cache = new WeakMap<EntityShape, Promise<TableFacts>>();

/**
 * The facts of an entity's table, read with one catalog query the first time they are needed and kept for the
 * life of the shape (schema changes made while the process runs, such as a new trigger, are not seen). A failed
 * read is not kept, so the next call asks again.
 */
export function tableFacts(manager: EntityManager, shape: EntityShape): Promise<TableFacts> {
  let facts = cache.get(shape);
  if (!facts) {
    facts = readFacts(manager, shape);
    cache.set(shape, facts);
    facts.catch(() => cache.delete(shape));
  }
  return facts;
}

async function readFacts(manager: EntityManager, shape: EntityShape): Promise<TableFacts> {
  const { rows } = await runStatement(manager, { sql: FACTS_SQL, parameters: [shape.table, shape.primary.databaseName] });
  const row = rows[0] as unknown as FactsRow;
  const columns = new Map<string, ColumnFacts>();
  for (const column of row.columns) {
    columns.set(column.name, {
      defaultExpression: column.default ?? undefined,
      generatedAlways: column.identity === 'a' || column.generated !== '',
    });
  }
  return {
    copyLikeInsert: (row.relkind === 'r' || row.relkind === 'p') && !row.relrowsecurity && !row.has_rules && !row.has_triggers,
    primarySequence: row.sequence ?? undefined,
    columns,
  };
}
