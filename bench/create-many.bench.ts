import { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { LEDGER_ENTITIES, LEDGER_MIGRATIONS } from '../app/ledger';
import { Account } from '../entities/account';
import { AccountRepository } from '../repositories/account-repository';
import { CustomerRepository } from '../repositories/customer-repository';
import { BenchSuite, connectBench } from './context';
import { BenchTable, compare } from './harness';

const ROWS = 10_000;
const COLUMNS = ['owner_id', 'currency', 'balance', 'version'] as const;

/** createMany against TypeORM's save(array) and insert(array), and the bulk-insert strategies it chose between. */
export const createManySuite: BenchSuite = {
  name: 'create-many',
  async run({ url, scale }) {
    const db = await connectBench(url, { entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS });
    const pool = new Pool({ connectionString: url, max: 2 });
    try {
      await db.dataSource.runMigrations();
      const owner = await new CustomerRepository().create({ name: 'Bench', email: 'bench@example.com' });
      const rows = Array.from({ length: ROWS }, (_, i) => ({
        ownerId: owner.id,
        currency: 'EUR' as const,
        balance: `${i}.${String(i % 100).padStart(2, '0')}`,
      }));
      const accounts = new AccountRepository();
      const typeorm = db.dataSource.getRepository(Account);
      const truncate = () => db.execute('TRUNCATE accounts RESTART IDENTITY CASCADE');
      const check = (n: number) => {
        if (n !== ROWS) throw new Error(`inserted ${n} rows, expected ${ROWS}`);
      };

      const api = await compare(
        `createMany vs TypeORM: ${ROWS.toLocaleString('en-US')} accounts in one call`,
        `Each operation inserts ${ROWS.toLocaleString('en-US')} Account rows (owner, currency, balance as a numeric ` +
          'string; id, version and timestamps from the database) and returns them with their generated columns, ' +
          'on an empty table. bastion validates every row (metadata + class-validator) before sending SQL.',
        [
          { name: 'bastion createMany', beforeRound: truncate, op: async () => check((await accounts.createMany(rows)).length) },
          {
            name: 'TypeORM repository.save(array)',
            beforeRound: truncate,
            op: async () => check((await typeorm.save(rows.map((r) => typeorm.create(r)))).length),
          },
          {
            name: 'TypeORM repository.insert(array)',
            beforeRound: truncate,
            // insert() writes the generated columns back into the objects it is given, so it gets copies.
            op: async () => check((await typeorm.insert(rows.map((r) => ({ ...r })))).identifiers.length),
          },
          {
            name: 'raw pg: json_populate_recordset, no validation',
            beforeRound: truncate,
            op: () => withClient(pool, (c) => jsonRecordset(c, owner.id, rows)),
          },
          {
            name: 'raw pg: reserve ids + COPY, no validation, no entities',
            beforeRound: truncate,
            op: () => withClient(pool, (c) => reserveAndCopy(c, owner.id, rows)),
          },
        ],
        { rounds: 5 * scale, iterations: 1 },
        `${ROWS.toLocaleString('en-US')} rows`,
      );
      const [createMany, save, insert, raw, rawCopy] = api.rows;
      const times = (a: { medianMs: number }, b: { medianMs: number }) => (a.medianMs / b.medianMs).toFixed(1);
      const withRatios: BenchTable = {
        ...api,
        notes: [
          `createMany is ${times(save!, createMany!)}× faster than repository.save(array) and ${times(insert!, createMany!)}× ` +
            'faster than repository.insert(array), with every row validated and every entity built.',
          `The floors, with no validation and no entities: raw json_populate_recordset … RETURNING is ${times(save!, raw!)}× ` +
            `faster than save(array), raw reserve + COPY ${times(save!, rawCopy!)}×; createMany takes ` +
            `${times(createMany!, rawCopy!)}× the time of the raw COPY. Most of what is left is the server's own work ` +
            '(one foreign-key check per row, the indexes, the commit), then class-validator.',
          'createMany takes the COPY path here: ids reserved from the sequence in one round trip, the rows streamed ' +
            'with COPY, and the entities built without reading anything back (created_at/updated_at are the ' +
            "transaction's now(), read in the same round trip; version is 1; the other columns as PostgreSQL stores " +
            'what was given). Entities whose stored values it cannot predict take the json_populate_recordset path.',
          'save(array) and insert(array) send all rows as one statement with 3 bind parameters a row: from 21,846 ' +
            'rows of this entity on, both fail ("bind message has 2 parameter formats but 0 parameters", checked with ' +
            'TypeORM 1.1.1). createMany sends one COPY, or one parameter per chunk of 5,000 rows.',
        ],
      };

      const strategies = await compare(
        `Bulk insert strategies on raw pg: ${ROWS.toLocaleString('en-US')} rows`,
        'The ways createMany could write the rows, measured without any framework: every variant inserts the same rows ' +
          'in one transaction and gets every column to the client (RETURNING *, a read-back, or, for the COPY without ' +
          'read-back, the ids and now() from the reservation).',
        [
          { name: 'reserve ids + COPY, nothing read back', beforeRound: truncate, op: () => withClient(pool, (c) => reserveAndCopy(c, owner.id, rows)) },
          {
            name: 'reserve ids + COPY + SELECT * WHERE id = ANY($1)',
            beforeRound: truncate,
            op: () => withClient(pool, (c) => reserveCopyAndRead(c, owner.id, rows)),
          },
          { name: 'json_populate_recordset, 1 statement, 1 parameter', beforeRound: truncate, op: () => withClient(pool, (c) => jsonRecordset(c, owner.id, rows)) },
          { name: 'unnest arrays, 1 statement, 4 parameters', beforeRound: truncate, op: () => withClient(pool, (c) => unnest(c, owner.id, rows)) },
          {
            name: 'multi-row VALUES, chunks of 16,383 rows (65,532 parameters)',
            beforeRound: truncate,
            op: () => withClient(pool, (c) => values(c, owner.id, rows, Math.floor(65_535 / COLUMNS.length))),
          },
          { name: 'multi-row VALUES, chunks of 1,000 rows', beforeRound: truncate, op: () => withClient(pool, (c) => values(c, owner.id, rows, 1000)) },
        ],
        { rounds: 7 * scale, iterations: 1 },
        `${ROWS.toLocaleString('en-US')} rows`,
      );
      const [copy, copyRead, json, unnestRow] = strategies.rows;
      return [
        withRatios,
        {
          ...strategies,
          notes: [
            `Reading the rows back after the COPY costs about what COPY saves over json_populate_recordset … RETURNING ` +
              `(${copyRead!.medianMs.toFixed(0)} ms vs ${json!.medianMs.toFixed(0)} ms); only the COPY that reads ` +
              `nothing back is ahead (${copy!.medianMs.toFixed(0)} ms, ${times(json!, copy!)}×). So createMany copies only ` +
              'when every returned column is known in advance (src/repository/insert-path.ts), and otherwise sends ' +
              `json_populate_recordset, as fast as unnest (${unnestRow!.medianMs.toFixed(0)} ms) with one parameter ` +
              "whatever the chunk size, and the table's own row type parses every value (array and JSON columns work).",
          ],
        },
      ];
    } finally {
      await pool.end();
      await db.close();
    }
  },
};

type Row = { ownerId: number; currency: string; balance: string };

async function withClient(pool: Pool, fn: (client: PoolClient) => Promise<number>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const inserted = await fn(client);
    await client.query('COMMIT');
    if (inserted !== ROWS) throw new Error(`inserted ${inserted} rows, expected ${ROWS}`);
  } finally {
    client.release();
  }
}

async function jsonRecordset(client: PoolClient, owner: number, rows: readonly Row[]): Promise<number> {
  const json = JSON.stringify(rows.map((r) => ({ owner_id: owner, currency: r.currency, balance: r.balance, version: 1 })));
  const result = await client.query(
    `INSERT INTO accounts (${COLUMNS.join(', ')}) SELECT ${COLUMNS.join(', ')} FROM json_populate_recordset(NULL::accounts, $1::json) RETURNING *`,
    [json],
  );
  return result.rowCount ?? 0;
}

async function unnest(client: PoolClient, owner: number, rows: readonly Row[]): Promise<number> {
  const result = await client.query(
    `INSERT INTO accounts (${COLUMNS.join(', ')}) SELECT * FROM unnest($1::int[], $2::char(3)[], $3::numeric(20,2)[], $4::int[]) RETURNING *`,
    [rows.map(() => owner), rows.map((r) => r.currency), rows.map((r) => r.balance), rows.map(() => 1)],
  );
  return result.rowCount ?? 0;
}

async function values(client: PoolClient, owner: number, rows: readonly Row[], chunk: number): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.slice(start, start + chunk);
    const parameters: unknown[] = [];
    const tuples = part.map((r) => {
      const base = parameters.push(owner, r.currency, r.balance, 1) - COLUMNS.length;
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4})`;
    });
    const result = await client.query(`INSERT INTO accounts (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} RETURNING *`, parameters);
    inserted += result.rowCount ?? 0;
  }
  return inserted;
}

/** Ids from the sequence and the transaction time in one round trip, then COPY with the ids: createMany's COPY path. */
async function reserveAndCopy(client: PoolClient, owner: number, rows: readonly Row[]): Promise<number> {
  return (await copyWithIds(client, owner, rows)).copied;
}

async function reserveCopyAndRead(client: PoolClient, owner: number, rows: readonly Row[]): Promise<number> {
  const { ids } = await copyWithIds(client, owner, rows);
  const result = await client.query('SELECT * FROM accounts WHERE id = ANY($1::int[])', [ids]);
  return result.rowCount ?? 0;
}

async function copyWithIds(client: PoolClient, owner: number, rows: readonly Row[]): Promise<{ ids: number[]; copied: number }> {
  const reserved = await client.query<{ now: Date; keys: string }>(
    "SELECT now() AS now, string_agg(nextval($1::regclass)::text, ',') AS keys FROM generate_series(1, $2)",
    ['accounts_id_seq', rows.length],
  );
  const ids = reserved.rows[0]!.keys.split(',').map(Number);
  let text = '';
  rows.forEach((r, i) => {
    text += `${ids[i]}\t${owner}\t${r.currency}\t${r.balance}\t1\n`;
  });
  const stream = client.query(copyFrom(`COPY accounts (id, ${COLUMNS.join(', ')}) FROM STDIN`));
  await new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
    stream.end(text);
  });
  return { ids, copied: stream.rowCount };
}
