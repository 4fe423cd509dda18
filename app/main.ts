import 'reflect-metadata';
import { Database } from '../src';
import { demoDatabase } from './database-target';
import { startDemoBastion } from './demo-bastion';

/**
 * The main job: connect (embedded PostgreSQL when nothing is configured), run a query, print health.
 * `--via-ssh` goes through an in-process SSH bastion on loopback (app/demo-bastion.ts).
 */
async function main(): Promise<void> {
  const target = await demoDatabase();
  const bastion = process.argv.includes('--via-ssh') ? await startDemoBastion(target.env) : undefined;
  let database: Database | undefined;
  try {
    database = await Database.connect({ env: bastion?.env ?? target.env, entities: [], migrations: [] });
    database.log.info(target.reason);
    const [server] = await database.query<{ version: string; now: Date }>('SELECT version() AS version, now() AS now');
    const health = await database.health();
    console.log(`bastion demo`);
    console.log(`  database : ${health.target}`);
    console.log(`  why      : ${target.reason}`);
    console.log(`  server   : ${server?.version.split(' on ')[0]}`);
    console.log(`  health   : ok=${health.ok} latency=${health.latencyMs} ms pool total=${health.pool.total} idle=${health.pool.idle} waiting=${health.pool.waiting} max=${health.pool.max}`);
    if (health.tunnel) {
      const { status, bastion: via, openChannels, reconnects } = health.tunnel;
      console.log(`  tunnel   : ${status.state} via ${via}, ${openChannels} channel(s), ${reconnects} reconnect(s)`);
    }
    if (bastion) console.log(`  bastion  : ${bastion.description}`);
  } finally {
    await database?.close();
    await bastion?.close();
    await target.embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
