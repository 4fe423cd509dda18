import type winston from 'winston';
import { Database } from '../../connection/database';
import type { HealthReport } from '../../connection/health';
import type { Output } from '../output';

/** Connects, prints the health report (or its JSON) and returns it; the caller turns `ok` into the exit code. */
export async function health(out: Output, logger: winston.Logger, json: boolean): Promise<HealthReport> {
  const database = await Database.connect({ logger, entities: [], migrations: [] });
  try {
    const report = await database.health();
    if (json) {
      out.line(JSON.stringify(report));
      return report;
    }
    const line = `${report.target}: round trip ${report.latencyMs} ms; pool ${report.pool.total}/${report.pool.max} open, ${report.pool.idle} idle, ${report.pool.waiting} waiting`;
    if (report.ok) out.ok(line);
    else out.fail(`${report.target}: ${report.error ?? 'unhealthy'}`);
    if (report.tunnel) {
      const t = report.tunnel;
      out.line(`  tunnel via ${t.bastion}: ${t.status.state}, ${t.openChannels} open channel(s), ${t.reconnects} reconnect(s)${t.lastError ? `, last error: ${t.lastError}` : ''}`);
    }
    return report;
  } finally {
    await database.close();
  }
}
