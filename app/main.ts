import 'reflect-metadata';
import { Database } from '../src';
import { demoDatabase } from './database-target';
import { DemoBastion, startDemoBastion } from './demo-bastion';
import { LEDGER_ENTITIES, LEDGER_MIGRATIONS } from './ledger';
import { runLedgerDemo } from './ledger-demo';
import { renderReport } from './report';

/**
 * The main job (`npm start`): a small ledger on bastion's public API. Migrates, opens customers and accounts,
 * runs a burst of concurrent transfers (some failing on purpose), and prints a report whose invariant line says
 * whether the total balance stayed the same. Zero config uses an embedded PostgreSQL; `--via-ssh` reaches it
 * through an in-process SSH bastion on loopback (app/demo-bastion.ts).
 */
async function main(): Promise<number> {
  const target = await demoDatabase();
  console.log(`bastion demo: ${target.reason}`);
  let bastion: DemoBastion | undefined;
  let database: Database | undefined;
  try {
    if (process.argv.includes('--via-ssh')) bastion = await startDemoBastion(target.env);
    database = await Database.connect({ env: bastion?.env ?? target.env, entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS });
    database.log.info(target.reason);
    const report = await runLedgerDemo(database, { customers: 10, transfers: 400, workers: 8 });
    for (const line of renderReport(report, bastion ? `through ${bastion.description}` : 'direct')) console.log(line);
    return report.totalBefore === report.totalAfter && report.health.ok ? 0 : 1;
  } finally {
    await database?.close();
    await bastion?.close();
    await target.embedded?.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
