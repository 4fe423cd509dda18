import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import winston from 'winston';
import { Database, DatabaseOptions, EmbeddedPostgres, startEmbeddedPostgres } from '../src';

/** What every benchmark suite gets: a fresh database of its own and a size factor. */
export interface BenchContext {
  /** URL of an empty database created for this suite. */
  readonly url: string;
  /** 1 by default; BENCH_SCALE=10 for a longer, steadier run. */
  readonly scale: number;
  readonly log: (message: string) => void;
}

/** A benchmark suite: one file under bench/, listed in bench/run.ts. */
export interface BenchSuite {
  readonly name: string;
  run(context: BenchContext): Promise<import('./harness').BenchTable[]>;
}

/** The server benchmarks run on: BENCH_DATABASE_URL, or an embedded PostgreSQL booted for the run. */
export interface BenchServer {
  readonly adminUrl: string;
  readonly description: string;
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export async function benchServer(): Promise<BenchServer> {
  const external = process.env.BENCH_DATABASE_URL;
  let embedded: EmbeddedPostgres | undefined;
  if (!external) embedded = await startEmbeddedPostgres({ dataDir: '.data/bench', persistent: false, fast: false, database: 'postgres' });
  const adminUrl = external ?? embedded!.url;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  const { rows } = await admin.query<{ server_version: string }>('SHOW server_version');
  const created: string[] = [];
  return {
    adminUrl,
    description: `PostgreSQL ${rows[0]?.server_version} (${external ? 'BENCH_DATABASE_URL' : 'embedded, fsync on'})`,
    async createDatabase() {
      const name = `bench_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${name}`);
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await embedded?.stop();
    },
  };
}

/** A silent logger: benchmarks measure work, not log lines. */
export const SILENT = winston.createLogger({ level: 'info', silent: true });

/** `Database.connect()` on a suite's database with a pool of 4 and a silent logger, as every suite compares. */
export function connectBench(url: string, options: Pick<DatabaseOptions, 'entities' | 'migrations'> = {}): Promise<Database> {
  return Database.connect({
    env: { DATABASE_URL: url, DB_POOL_MAX: '4' },
    logger: SILENT,
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
  });
}
