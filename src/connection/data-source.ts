import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsOptions } from 'node:tls';
import type { Pool } from 'pg';
import { DataSource, MixedList } from 'typeorm';
import type winston from 'winston';
import { DatabaseConfig, DatabaseConfigOverrides, loadConfig } from '../config/load-config';
import { ConfigError } from '../errors/config-error';
import { createLogger, Log } from '../logging/logger';
import { QueryLogSubscriber } from '../logging/query-log-subscriber';
import { registerSecret } from '../logging/redact';
import { TypeOrmLogger } from '../logging/typeorm-logger';
import { pgPool } from './health';
import { poolOptions } from './pool-options';
import { SshTunnel } from './ssh-tunnel';
import { DIRECT_TRANSPORT, Transport } from './transport';

/** Something TypeORM accepts in `entities` or `migrations`: a class or a file glob. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own MixedList element type
export type EntityOrGlob = Function | string;

/** How to build a database handle: where config comes from, what to load, where to log. */
export interface DatabaseOptions {
  /** A named database reads its variables with the prefix `NAME_` (ANALYTICS_DATABASE_URL, …). Default: `default`. */
  readonly name?: string;
  /** Where config is read from. Default: `process.env` after loading `.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Settings on top of the environment, e.g. `{ pool: { max: 2 } }`. */
  readonly config?: DatabaseConfigOverrides;
  /** Entity classes or globs. Default: the DB_ENTITIES globs. */
  readonly entities?: MixedList<EntityOrGlob>;
  /** Migration classes or globs. Default: the DB_MIGRATIONS globs. */
  readonly migrations?: MixedList<EntityOrGlob>;
  /** Default: the framework's logger (LOG_LEVEL, LOG_FORMAT). */
  readonly logger?: winston.Logger;
}

const DATABASE_OPTION_KEYS = ['name', 'env', 'config', 'entities', 'migrations', 'logger'];

/** Everything a data source is built from, resolved once. */
export interface ResolvedDatabaseOptions {
  readonly name: string;
  /** Prefix of this database's variables: '' for the default one, `ANALYTICS_` for `analytics`. */
  readonly envPrefix: string;
  readonly config: DatabaseConfig;
  readonly log: Log;
  readonly entities: MixedList<EntityOrGlob>;
  readonly migrations: MixedList<EntityOrGlob>;
}

/**
 * A TypeORM DataSource that opens its transport (the SSH tunnel, when configured) before the pool, and
 * closes it after the pool, so the stock `typeorm` CLI goes through the bastion like the application does.
 */
export class BastionDataSource extends DataSource {
  readonly databaseName: string;
  readonly config: DatabaseConfig;
  readonly log: Log;
  readonly transport: Transport;
  private readonly queryLog: QueryLogSubscriber;

  constructor(resolved: ResolvedDatabaseOptions, transport: Transport) {
    const { config } = resolved;
    const password = config.database.password;
    super({
      type: 'postgres',
      host: config.database.host,
      port: config.database.port,
      username: config.database.user,
      // A function, so the password is not a plain property of options that inspect/JSON could print.
      password: password === undefined ? undefined : () => password,
      database: config.database.name,
      ssl: sslOptions(config),
      applicationName: config.session.applicationName,
      entities: resolved.entities,
      migrations: resolved.migrations,
      logger: new TypeOrmLogger(resolved.log),
      logging: true,
      synchronize: false,
      migrationsRun: false,
      migrationsTransactionMode: 'each',
      extra: poolOptions(config, transport.stream),
    });
    this.databaseName = resolved.name;
    this.config = config;
    this.log = resolved.log;
    this.transport = transport;
    this.queryLog = new QueryLogSubscriber(resolved.log, {
      connectionName: resolved.name,
      slowQueryMs: config.logging.slowQueryMs,
      logParams: config.logging.queryParams,
    });
  }

  override async initialize(): Promise<this> {
    await this.transport.open();
    try {
      await super.initialize();
      this.subscribers.push(this.queryLog);
    } catch (error) {
      await this.transport.close();
      throw error;
    }
    return this;
  }

  override async destroy(): Promise<void> {
    try {
      if (this.isInitialized) {
        const closed = socketsClosed(pgPool(this));
        await super.destroy();
        await closed;
      }
    } finally {
      await this.transport.close();
    }
  }
}

const SOCKET_CLOSE_WAIT_MS = 5_000;

/**
 * Resolves once every connection the pool has open now has closed its socket. pg-pool's `end()` resolves when it
 * has asked each client to end, before their sockets close; a server or tunnel shut down right after would then
 * break connections that are still saying goodbye. pg-pool emits `remove` once a client's socket has closed.
 */
function socketsClosed(pool: Pool | undefined): Promise<void> {
  const open = pool?.totalCount ?? 0;
  if (!pool || open === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let left = open;
    const timer = setTimeout(finish, SOCKET_CLOSE_WAIT_MS);
    timer.unref();
    function onRemove(): void {
      if (--left === 0) finish();
    }
    function finish(): void {
      clearTimeout(timer);
      pool!.removeListener('remove', onRemove);
      resolve();
    }
    pool.on('remove', onRemove);
  });
}

/** Reads config and builds the parts of a database handle; throws ConfigError before anything is opened. */
export function resolveDatabaseOptions(options: DatabaseOptions = {}): ResolvedDatabaseOptions {
  const unknown = Object.keys(options).filter((key) => !DATABASE_OPTION_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((key) => ({
        variable: key,
        message: `is not an option of Database.connect()/createDataSource(); expected one of ${DATABASE_OPTION_KEYS.join(', ')}`,
      })),
    );
  }
  const name = options.name ?? 'default';
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
    throw new ConfigError([
      { variable: 'name', message: `${JSON.stringify(name)} is not a valid database name; expected letters, digits and _` },
    ]);
  }
  const prefix = name === 'default' ? '' : `${name.toUpperCase()}_`;
  const config = loadConfig(options.env, { prefix, overrides: options.config });
  for (const secret of [config.database.password, config.ssh?.password, config.ssh?.passphrase, config.ssh?.privateKey]) {
    registerSecret(secret);
  }
  const winstonLogger = options.logger ?? createLogger(config.logging);
  const log = new Log(winstonLogger, name === 'default' ? {} : { db: name });
  return {
    name,
    envPrefix: prefix,
    config,
    log,
    entities: options.entities ?? config.database.entities ?? defaultGlobs('entities'),
    migrations: options.migrations ?? config.database.migrations ?? defaultGlobs('migrations'),
  };
}

/**
 * Builds an uninitialized DataSource from the same config as `Database.connect()`; `initialize()` opens the
 * SSH tunnel first when one is configured. This is what `ormconfig.ts` exports for the stock typeorm CLI.
 */
export function createDataSource(options: DatabaseOptions = {}): BastionDataSource {
  return buildDataSource(resolveDatabaseOptions(options));
}

/** The data source (with its transport) for already-resolved options. */
export function buildDataSource(resolved: ResolvedDatabaseOptions): BastionDataSource {
  return new BastionDataSource(resolved, transportFor(resolved));
}

/** Direct TCP, or the SSH tunnel when SSH_HOST is configured (nothing is opened until `initialize()`). */
function transportFor(resolved: ResolvedDatabaseOptions): Transport {
  const ssh = resolved.config.ssh;
  if (ssh === undefined) return DIRECT_TRANSPORT;
  return new SshTunnel(ssh, { log: resolved.log, envPrefix: resolved.envPrefix });
}

/** Entity and migration files: TypeScript sources under ts-node/jest, compiled files under plain node. */
function defaultGlobs(kind: 'entities' | 'migrations'): string[] {
  const root = process.cwd();
  return __filename.endsWith('.ts') ? [join(root, kind, '**', '*.ts')] : [join(root, 'dist', kind, '**', '*.js')];
}

function sslOptions(config: DatabaseConfig): boolean | TlsOptions {
  const { sslMode, sslRootCertPath } = config.database;
  const ca = sslRootCertPath === undefined ? undefined : readFileSync(sslRootCertPath, 'utf8');
  switch (sslMode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // pg hands these to tls.connect, where checkServerIdentity exists (TypeORM types them as server TlsOptions).
      return { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined } as TlsOptions;
    case 'verify-full':
      return { rejectUnauthorized: true, ca };
    default: {
      const never: never = sslMode;
      throw new Error(`unhandled ssl mode ${String(never)}`);
    }
  }
}
