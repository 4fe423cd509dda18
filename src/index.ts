import 'reflect-metadata';

// connection
export { Database } from './connection/database';
export type { QueryOptions, QueryOperation, OperationResult } from './connection/database';
export { createDataSource, BastionDataSource } from './connection/data-source';
export type { DatabaseOptions, EntityOrGlob } from './connection/data-source';
export type { HealthReport } from './connection/health';
export type { TunnelHealth, TunnelState } from './connection/transport';
export { hostKeyFingerprint } from './connection/host-key';
export { startEmbeddedPostgres, EmbeddedPostgresError } from './connection/embedded-postgres';
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './connection/embedded-postgres';

// config
export { loadConfig, describeSettings } from './config/load-config';
export type { DatabaseConfig, DatabaseConfigOverrides, LoadConfigOptions } from './config/load-config';
export {
  DatabaseSettings,
  PoolSettings,
  SessionSettings,
  LoggingSettings,
  SshSettings,
} from './config/settings';
export type { SslMode, LogLevel, LogFormat } from './config/settings';

// logging
export { createLogger } from './logging/logger';
export type { LoggerSettings } from './logging/logger';

// errors
export { BastionError, QueryError } from './errors/bastion-error';
export { ConfigError } from './errors/config-error';
export type { ConfigProblem } from './errors/config-error';
export {
  TunnelError,
  HostKeyMismatchError,
  DatabaseNotConnectedError,
  ConnectionError,
  PoolExhaustedError,
  CommitUnknownError,
} from './errors/connection-errors';
export type { PoolSnapshot } from './errors/connection-errors';
export {
  ConstraintViolationError,
  UniqueViolationError,
  ForeignKeyViolationError,
  NotNullViolationError,
  CheckViolationError,
  QueryTimeoutError,
  SerializationFailureError,
  DeadlockError,
  ReadOnlyTransactionError,
} from './errors/query-errors';
export {
  NotFoundError,
  ValidationError,
  OptimisticLockError,
  TransactionRequiredError,
  TransactionNotAllowedError,
  RollbackOnlyError,
} from './errors/domain-errors';
export type { ValidationIssue } from './errors/domain-errors';
export { toBastionError } from './errors/sqlstate';
