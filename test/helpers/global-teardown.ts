import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddedPostgres } from '../../src/connection/embedded-postgres';
import { EMBEDDED_PASSWORD_VARIABLE, LOG_DIR } from './paths';
import { TEST_SECRETS } from './secrets';

/** Stops the embedded server, then fails the run if any test's log line contains a secret. */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __bastionEmbedded?: EmbeddedPostgres }).__bastionEmbedded?.stop();
  const secrets = [...TEST_SECRETS, process.env[EMBEDDED_PASSWORD_VARIABLE]].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
  let lines = 0;
  const leaks: string[] = [];
  for (const file of readdirSync(LOG_DIR)) {
    for (const line of readFileSync(join(LOG_DIR, file), 'utf8').split('\n')) {
      if (!line) continue;
      lines++;
      for (const secret of secrets) if (line.includes(secret)) leaks.push(`${file}: ${line.slice(0, 300)}`);
    }
  }
  if (leaks.length > 0) {
    throw new Error(`A secret appeared in ${leaks.length} log line(s) of the test run:\n${leaks.slice(0, 10).join('\n')}`);
  }
  process.stderr.write(`[bastion tests] scanned ${lines} log lines: no password, passphrase or key found\n`);
}
