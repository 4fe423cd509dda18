import { EmbeddedPostgres, loadDotEnv, startEmbeddedPostgres } from '../src';

/** Where the demo's database is, and why: the configured one, or an embedded one it booted. */
export interface DemoDatabase {
  /** Variables to connect with (the configured environment, or DATABASE_URL of the embedded server). */
  readonly env: NodeJS.ProcessEnv;
  /** One sentence for the log: which database and why. */
  readonly reason: string;
  readonly embedded: EmbeddedPostgres | undefined;
}

/**
 * The zero-config path of the demo: with no DATABASE_URL or DB_HOST (in the environment or .env), boot the
 * embedded PostgreSQL under .data/; otherwise use what is configured. The framework itself never does this.
 */
export async function demoDatabase(): Promise<DemoDatabase> {
  // The demo's own output is its report: framework logs show warnings only, unless LOG_LEVEL says otherwise.
  const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn', ...loadDotEnv() };
  if (env.DATABASE_URL || env.DB_HOST) {
    return {
      env,
      reason: `using the database configured by ${env.DATABASE_URL ? 'DATABASE_URL' : 'DB_HOST'}`,
      embedded: undefined,
    };
  }
  const embedded = await startEmbeddedPostgres();
  return {
    env: { ...env, DATABASE_URL: embedded.url },
    reason:
      `no DATABASE_URL or DB_HOST is configured, so an embedded PostgreSQL was started (data in ${embedded.dataDir}, ` +
      `port ${embedded.port}, ready in ${embedded.bootMs} ms${embedded.dataDirReason ? `; ${embedded.dataDirReason}` : ''}); ` +
      'set DATABASE_URL to use your own server',
    embedded,
  };
}
