import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { BenchSuite, connectBench } from './context';
import { compare } from './harness';

/** db.query against raw pg and plain TypeORM for the most common statement: a primary-key lookup. */
export const rawQuerySuite: BenchSuite = {
  name: 'raw-query',
  async run({ url, scale }) {
    const pool = new Pool({ connectionString: url, max: 4 });
    const typeorm = await new DataSource({ type: 'postgres', url, extra: { max: 4 } }).initialize();
    const db = await connectBench(url);
    try {
      await pool.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(12,2) NOT NULL)');
      await pool.query("INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 10000) g");
      let n = 0;
      const nextId = () => (n++ % 10000) + 1;
      const sql = 'SELECT id, name, price FROM items WHERE id = $1';
      const table = await compare(
        'Primary-key lookup: db.query vs raw pg vs plain TypeORM',
        'One `SELECT … WHERE id = $1` per operation, sequential, pool of 4 on loopback. db.query goes through ' +
          "TypeORM's QueryRunner plus bastion's ambient-transaction lookup and query log (log level info, so the " +
          'per-query debug line is skipped).',
        [
          { name: 'raw pg (pool.query)', op: () => pool.query(sql, [nextId()]) },
          { name: 'plain TypeORM (dataSource.query)', op: () => typeorm.query(sql, [nextId()]) },
          { name: 'bastion db.query', op: () => db.query(sql, [nextId()]) },
        ],
        { rounds: 15 * scale, iterations: 200 },
        'query',
      );
      return [table];
    } finally {
      await db.close();
      await typeorm.destroy();
      await pool.end();
    }
  },
};
