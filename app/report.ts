import type { DemoReport } from './ledger-demo';

/** The report as lines for stdout: balances, the invariant, outcomes, health and timings. */
export function renderReport(report: DemoReport, route: string): string[] {
  const ms = (value: number) => `${Math.round(value)} ms`;
  const burstSeconds = report.timings.burstMs / 1000;
  const attempted = report.committed + Object.values(report.rejected).reduce((a, b) => a + b, 0);
  const rejected = Object.entries(report.rejected)
    .map(([name, count]) => `${count} ${name}`)
    .join(', ');
  const health = report.health;
  const invariantHolds = report.totalBefore === report.totalAfter;
  const lines = [
    'bastion ledger demo',
    `  database   : ${health.target} (${route})`,
    `  migrations : ${report.migrationsApplied.length ? report.migrationsApplied.join(', ') : 'none pending'}`,
    '',
    '  account  owner                 balance',
    ...report.accounts.map((a) => `  ${String(a.id).padStart(7)}  ${a.owner.padEnd(20)} ${a.balance.padStart(10)}`),
    '',
    `  invariant  : total before ${report.totalBefore} = total after ${report.totalAfter}: ${invariantHolds ? 'unchanged' : 'CHANGED'}`,
    `  transfers  : ${attempted} attempted, ${report.committed} committed, ${attempted - report.committed} rolled back${rejected ? ` (${rejected})` : ''}, ${report.retries} retried`,
    `  pool       : ${health.pool.total} open / ${health.pool.max} max, ${health.pool.idle} idle, ${health.pool.waiting} waiting; round trip ${health.latencyMs} ms`,
    health.tunnel
      ? `  tunnel     : ${health.tunnel.status.state} via ${health.tunnel.bastion}, ${health.tunnel.openChannels} channel(s), ${health.tunnel.reconnects} reconnect(s)`
      : '  tunnel     : none (direct connection)',
    `  timings    : migrate ${ms(report.timings.migrateMs)}, seed ${ms(report.timings.seedMs)}, burst ${ms(report.timings.burstMs)} (${Math.round(attempted / burstSeconds)} transfers/s)`,
  ];
  return lines;
}
