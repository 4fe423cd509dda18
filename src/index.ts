import 'reflect-metadata';

// connection
export { Database } from './connection/database';
export type { QueryOptions, QueryOperation, OperationResult } from './connection/database';
export { createDataSource, BastionDataSource } from './connection/data-source';
export { currentManager } from './connection/current-manager';
export type { DatabaseOptions, EntityOrGlob } from './connection/data-source';
export type { HealthReport } from './connection/health';
export type { TunnelHealth, TunnelState } from './connection/transport';
export { hostKeyFingerprint } from './connection/host-key';
export { startEmbeddedPostgres, EmbeddedPostgresError } from './connection/embedded-postgres';
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './connection/embedded-postgres';

// repositories
export { BaseRepository } from './repository/base-repository';
export type { RepositoryOptions, EntityId, NewEntity, EntityPatch } from './repository/base-repository';
export type { Page, FindManyQuery, OffsetQuery, CursorQuery } from './repository/pagination';
export type { Filter, Order, SortDirection } from './repository/query-guard';

// transactions
export { Transactional } from './transaction/transactional';
export { withTransaction, currentTransaction } from './transaction/with-transaction';
export type { TransactionInfo } from './transaction/with-transaction';
export { runOnCommit, runOnRollback } from './transaction/hooks';
export { transactionStats } from './transaction/stats';
export type { TransactionStats } from './transaction/stats';
export type { TransactionHook } from './transaction/transaction-scope';
export type { TransactionOptions, Propagation } from './transaction/options';
export type { IsolationLevel } from './context/transaction-context';

// config
export { loadConfig, describeSettings } from './config/load-config';
export { loadDotEnv } from './config/dotenv';
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
} from './errors/domain-errors';
export {
  TransactionRequiredError,
  TransactionNotAllowedError,
  RollbackOnlyError,
  IncompatibleTransactionError,
  UnawaitedWorkError,
  TransactionalUsageError,
} from './errors/transaction-errors';
export type { ValidationIssue } from './errors/domain-errors';
export { MigrationError } from './errors/migration-error';
export { toBastionError } from './errors/sqlstate';
