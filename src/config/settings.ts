import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Env } from './env-var';

/** The SSL modes node-postgres can honour (libpq names). `prefer`/`allow` need a fallback pg does not do. */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** winston's npm levels. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const MS_DAY = 86_400_000;

/** Where the database is and how to log in. `url`, when given, fills the fields it names. */
export class DatabaseSettings {
  @Env({
    name: 'DATABASE_URL',
    expected: 'a URL like postgres://user:password@host:5432/dbname',
    description: 'Connection URL; alternative to DB_HOST/DB_PORT/DB_USER/DB_PASSWORD/DB_NAME. Default: none',
    secret: true,
  })
  @IsOptional()
  @IsString()
  url?: string;

  @Env({
    name: 'DB_HOST',
    expected: 'a host name or IP address',
    description: 'Database host (as seen from the SSH bastion when SSH_HOST is set). Default: none',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @Matches(/^[^\s/?#@]+$/)
  host?: string;

  @Env({ name: 'DB_PORT', expected: 'a port number from 1 to 65535', description: 'Database port. Default: 5432' })
  @IsInt()
  @Min(1)
  @Max(65535)
  port: number = 5432;

  @Env({ name: 'DB_USER', expected: 'a user name', description: 'Database user. Default: postgres' })
  @IsString()
  @MinLength(1)
  user: string = 'postgres';

  @Env({ name: 'DB_PASSWORD', expected: 'a string', description: 'Database password. Default: none', secret: true })
  @IsOptional()
  @IsString()
  password?: string;

  @Env({ name: 'DB_NAME', expected: 'a database name', description: 'Database name. Default: postgres' })
  @IsString()
  @MinLength(1)
  @MaxLength(63)
  name: string = 'postgres';

  @Env({
    name: 'DB_SSL_MODE',
    expected: `one of ${SSL_MODES.join(', ')}`,
    description: 'TLS to the database: disable, require (encrypt, no verification), verify-ca, verify-full. Default: disable',
  })
  @IsIn(SSL_MODES)
  sslMode: SslMode = 'disable';

  @Env({
    name: 'DB_SSL_ROOT_CERT',
    expected: 'the path of a readable PEM file',
    description: 'CA certificate for verify-ca/verify-full. Default: the system CAs',
  })
  @IsOptional()
  @IsString()
  sslRootCertPath?: string;

  @Env({
    name: 'DB_ENTITIES',
    expected: 'comma-separated file globs',
    description:
      'Entity files to load when none are passed in code. Default: entities/**/*.ts under ts-node/jest, dist/entities/**/*.js otherwise',
    list: true,
  })
  @IsOptional()
  @IsString({ each: true })
  entities?: string[];

  @Env({
    name: 'DB_MIGRATIONS',
    expected: 'comma-separated file globs',
    description:
      'Migration files to load when none are passed in code. Default: migrations/**/*.ts under ts-node/jest, dist/migrations/**/*.js otherwise',
    list: true,
  })
  @IsOptional()
  @IsString({ each: true })
  migrations?: string[];
}

/** The node-postgres pool: the DBUtils/HikariCP knobs that pg-pool supports. */
export class PoolSettings {
  @Env({ name: 'DB_POOL_MAX', expected: 'an integer from 1 to 1000', description: 'Most connections open at once. Default: 10' })
  @IsInt()
  @Min(1)
  @Max(1000)
  max: number = 10;

  @Env({
    name: 'DB_POOL_MIN',
    expected: 'an integer from 0 to 1000, not above DB_POOL_MAX',
    description: 'Connections opened at connect() and kept open when idle. Default: 0',
  })
  @IsInt()
  @Min(0)
  @Max(1000)
  min: number = 0;

  @Env({
    name: 'DB_POOL_IDLE_TIMEOUT_MS',
    expected: 'milliseconds from 0 (never) to 86400000',
    description: 'Close a connection idle this long (above DB_POOL_MIN). 0 = never. Default: 10000',
  })
  @IsInt()
  @Min(0)
  @Max(MS_DAY)
  idleTimeoutMs: number = 10_000;

  @Env({
    name: 'DB_POOL_CONNECTION_TIMEOUT_MS',
    expected: 'milliseconds from 1 to 600000',
    description: 'Longest wait for a connection (new or pooled) before PoolExhaustedError/ConnectionError. Default: 10000',
  })
  @IsInt()
  @Min(1)
  @Max(600_000)
  connectionTimeoutMs: number = 10_000;

  @Env({
    name: 'DB_POOL_MAX_USES',
    expected: 'an integer from 0 (unlimited) to 1000000000',
    description: 'Replace a connection after this many checkouts. 0 = unlimited. Default: 0',
  })
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  maxUses: number = 0;

  @Env({
    name: 'DB_POOL_MAX_LIFETIME_S',
    expected: 'seconds from 0 (unlimited) to 86400',
    description: 'Replace a connection this old (when it is next idle). 0 = unlimited. Default: 1800',
  })
  @IsInt()
  @Min(0)
  @Max(86_400)
  maxLifetimeSeconds: number = 1800;
}

/** Settings applied to every new connection. */
export class SessionSettings {
  @Env({
    name: 'DB_STATEMENT_TIMEOUT_MS',
    expected: 'milliseconds from 0 (none) to 86400000',
    description: 'Cancel any statement running longer (QueryTimeoutError). 0 = none. Default: 0',
  })
  @IsInt()
  @Min(0)
  @Max(MS_DAY)
  statementTimeoutMs: number = 0;

  @Env({
    name: 'DB_LOCK_TIMEOUT_MS',
    expected: 'milliseconds from 0 (none) to 86400000',
    description: 'Give up waiting for a row or table lock after this long. 0 = none. Default: 0',
  })
  @IsInt()
  @Min(0)
  @Max(MS_DAY)
  lockTimeoutMs: number = 0;

  @Env({
    name: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    expected: 'milliseconds from 0 (none) to 86400000',
    description: 'Server ends a session left idle inside a transaction this long. 0 = none. Default: 0',
  })
  @IsInt()
  @Min(0)
  @Max(MS_DAY)
  idleInTransactionTimeoutMs: number = 0;

  @Env({
    name: 'DB_APPLICATION_NAME',
    expected: 'up to 63 printable ASCII characters',
    description: 'application_name shown in pg_stat_activity. Default: bastion',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(63)
  @Matches(/^[\x20-\x7e]+$/)
  applicationName: string = 'bastion';

  @Env({
    name: 'DB_SESSION_SQL',
    expected: 'SQL text',
    description: "SQL run once on every new connection, e.g. SET search_path TO app,public. Default: none",
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  sessionSql?: string;
}

/** The framework logger. */
export class LoggingSettings {
  @Env({ name: 'LOG_LEVEL', expected: `one of ${LOG_LEVELS.join(', ')}`, description: 'Lowest level logged; queries log at debug. Default: info' })
  @IsIn(LOG_LEVELS)
  level: LogLevel = 'info';

  @Env({
    name: 'LOG_FORMAT',
    expected: 'pretty or json',
    description: 'pretty (human, coloured on a terminal) or json (one object per line). Default: pretty on a terminal, else json',
  })
  @IsIn(LOG_FORMATS)
  format: LogFormat = process.stderr.isTTY ? 'pretty' : 'json';

  @Env({
    name: 'LOG_SLOW_QUERY_MS',
    expected: 'milliseconds from 0 (off) to 86400000',
    description: 'Queries slower than this log a warning. 0 = off. Default: 500',
  })
  @IsInt()
  @Min(0)
  @Max(MS_DAY)
  slowQueryMs: number = 500;

  @Env({
    name: 'LOG_QUERY_PARAMS',
    expected: 'true or false',
    description: 'Log query parameter values (known secrets stay masked). Default: false',
  })
  @IsBoolean()
  queryParams: boolean = false;
}

/** The SSH bastion; present only when SSH_HOST is set. */
export class SshSettings {
  @Env({ name: 'SSH_HOST', expected: 'a host name or IP address', description: 'SSH bastion host; enables the tunnel. Default: none' })
  @IsString()
  @MinLength(1)
  @Matches(/^[^\s/?#@]+$/)
  host!: string;

  @Env({ name: 'SSH_PORT', expected: 'a port number from 1 to 65535', description: 'SSH port. Default: 22' })
  @IsInt()
  @Min(1)
  @Max(65535)
  port: number = 22;

  @Env({ name: 'SSH_USER', expected: 'a user name', description: 'SSH user (required with SSH_HOST). Default: none' })
  @IsString()
  @MinLength(1)
  user!: string;

  @Env({ name: 'SSH_PASSWORD', expected: 'a string', description: 'SSH password authentication. Default: none', secret: true })
  @IsOptional()
  @IsString()
  password?: string;

  @Env({
    name: 'SSH_PRIVATE_KEY_PATH',
    expected: 'the path of a readable private key file',
    description: 'SSH private key file (OpenSSH or PEM format). Default: none',
  })
  @IsOptional()
  @IsString()
  privateKeyPath?: string;

  @Env({
    name: 'SSH_PRIVATE_KEY',
    expected: 'a PEM/OpenSSH private key (\\n escapes allowed)',
    description: 'SSH private key given inline. Default: none',
    secret: true,
  })
  @IsOptional()
  @IsString()
  @Matches(/-----BEGIN [A-Z ]*PRIVATE KEY-----/)
  privateKey?: string;

  @Env({ name: 'SSH_PASSPHRASE', expected: 'a string', description: 'Passphrase of an encrypted private key. Default: none', secret: true })
  @IsOptional()
  @IsString()
  passphrase?: string;

  @Env({ name: 'SSH_AGENT', expected: 'the path of an ssh-agent socket', description: 'Authenticate with ssh-agent (e.g. $SSH_AUTH_SOCK). Default: none' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  agent?: string;

  @Env({
    name: 'SSH_HOST_KEY',
    expected: 'a SHA256 fingerprint as printed by ssh-keygen -lf, e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8',
    description: 'Pinned host key fingerprint of the bastion. Default: none (use SSH_KNOWN_HOSTS)',
  })
  @IsOptional()
  @Matches(/^SHA256:[A-Za-z0-9+/]{43}=?$/)
  hostKey?: string;

  @Env({
    name: 'SSH_KNOWN_HOSTS',
    expected: 'the path of a known_hosts file',
    description: 'known_hosts file to verify the bastion against (hashed and [host]:port entries work). Default: ~/.ssh/known_hosts',
  })
  @IsOptional()
  @IsString()
  knownHosts?: string;

  @Env({
    name: 'SSH_INSECURE_ACCEPT_ANY_HOST_KEY',
    expected: 'true or false',
    description: 'Skip host key verification (logs a warning at every connect; never in production). Default: false',
  })
  @IsBoolean()
  insecureAcceptAnyHostKey: boolean = false;

  @Env({
    name: 'SSH_KEEPALIVE_INTERVAL_MS',
    expected: 'milliseconds from 0 (off) to 3600000',
    description: 'SSH keepalive interval; a dead bastion is detected after SSH_KEEPALIVE_COUNT_MAX misses. Default: 10000',
  })
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  keepaliveIntervalMs: number = 10_000;

  @Env({
    name: 'SSH_KEEPALIVE_COUNT_MAX',
    expected: 'an integer from 1 to 100',
    description: 'Unanswered keepalives before the connection counts as dead. Default: 3',
  })
  @IsInt()
  @Min(1)
  @Max(100)
  keepaliveCountMax: number = 3;

  @Env({
    name: 'SSH_READY_TIMEOUT_MS',
    expected: 'milliseconds from 1 to 600000',
    description: 'Longest wait for the SSH handshake and authentication. Default: 20000',
  })
  @IsInt()
  @Min(1)
  @Max(600_000)
  readyTimeoutMs: number = 20_000;

  @Env({
    name: 'SSH_RECONNECT_MAX_DELAY_MS',
    expected: 'milliseconds from 100 to 3600000',
    description: 'Cap of the exponential backoff between reconnect attempts. Default: 30000',
  })
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  reconnectMaxDelayMs: number = 30_000;
}

/** The sections of the configuration, each a settings class. */
export const SECTIONS = {
  database: DatabaseSettings,
  pool: PoolSettings,
  session: SessionSettings,
  logging: LoggingSettings,
  ssh: SshSettings,
} as const;

export type SectionName = keyof typeof SECTIONS;
