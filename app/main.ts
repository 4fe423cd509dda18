import 'reflect-metadata';
import { Database } from '../src';
import { demoDatabase } from './database-target';

/** The main job: connect (embedded PostgreSQL when nothing is configured), run a query, print health. */
async function main(): Promise<void> {
  const target = await demoDatabase();
  let database: Database | undefined;
  try {
    database = await Database.connect({ env: target.env, entities: [], migrations: [] });
    database.log.info(target.reason);
    const [server] = await database.query<{ version: string; now: Date }>('SELECT version() AS version, now() AS now');
    const health = await database.health();
    console.log(`bastion demo`);
    console.log(`  database : ${health.target}`);
    console.log(`  why      : ${target.reason}`);
    console.log(`  server   : ${server?.version.split(' on ')[0]}`);
    console.log(`  health   : ok=${health.ok} latency=${health.latencyMs} ms pool total=${health.pool.total} idle=${health.pool.idle} waiting=${health.pool.waiting} max=${health.pool.max}`);
  } finally {
    await database?.close();
    await target.embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
