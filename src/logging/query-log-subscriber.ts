import type { AfterQueryEvent, EntitySubscriberInterface } from 'typeorm';
import { currentContext, transactionIdOf } from '../context/transaction-context';
import { withoutEchoedValues } from '../errors/sqlstate';
import type { Log, LogFields } from './logger';

/** What the query log needs to know about its database. */
export interface QueryLogOptions {
  readonly connectionName: string;
  /** Warn about queries at least this slow; 0 = never. */
  readonly slowQueryMs: number;
  /** Log parameter values (still redacted) instead of only their count. */
  readonly logParams: boolean;
}

const MAX_SQL_LENGTH = 2000;
const MAX_PARAM_LENGTH = 200;

/**
 * Makes the TypeORM subscriber that writes one log line per completed query: duration, row count, worker,
 * transaction id and backend pid; a warning when slow; one line with the SQLSTATE when it failed.
 * Added to the data source's subscribers after initialization, as an instance (TypeORM would only build
 * decorated classes, and a decorated class per data source would grow TypeORM's global metadata).
 */
export class QueryLogSubscriber implements EntitySubscriberInterface {
  constructor(
    private readonly log: Log,
    private readonly options: QueryLogOptions,
  ) {}

  afterQuery(event: AfterQueryEvent): void {
    // TypeORM calls this inside the query's own try block: a failing log line must never fail the query.
    try {
      this.#write(event);
    } catch (error) {
      try {
        this.log.warn('query log line failed', { error: error instanceof Error ? error.message : String(error) });
      } catch {
        // Nothing left to report with: the query itself succeeded or failed on its own.
      }
    }
  }

  #write(event: AfterQueryEvent): void {
    const { log, options } = this;
    const slow = options.slowQueryMs > 0 && (event.executionTime ?? 0) >= options.slowQueryMs;
    const error = event.success ? undefined : (event.error as { code?: unknown; message?: unknown } | undefined);
    // A serialization failure or deadlock is expected under contention; the transaction's retry line reports it.
    const expected = error?.code === '40001' || error?.code === '40P01';
    const level = !event.success ? (expected ? 'debug' : 'warn') : slow ? 'warn' : 'debug';
    if (!log.enabled(level)) return;
    const fields: LogFields = { ms: event.executionTime, ...queryFields(event, options) };
    if (!event.success) {
      const code = typeof error?.code === 'string' ? error.code : undefined;
      log.write(level, 'query failed', { ...fields, code, error: withoutEchoedValues(code, String(error?.message ?? error)) });
    } else if (slow) {
      log.warn('slow query', { ...fields, rows: rowCount(event.rawResults), thresholdMs: options.slowQueryMs });
    } else {
      log.debug('query', { ...fields, rows: rowCount(event.rawResults) });
    }
  }
}

function queryFields(event: AfterQueryEvent, options: QueryLogOptions): LogFields {
  const context = currentContext();
  const tx = transactionIdOf(event.queryRunner);
  const pid = (event.queryRunner as { databaseConnection?: { processID?: number } } | undefined)?.databaseConnection
    ?.processID;
  const fields: LogFields = {};
  if (options.connectionName !== 'default') fields.db = options.connectionName;
  if (context.worker !== undefined) fields.worker = context.worker;
  if (tx !== undefined) fields.tx = tx;
  if (pid !== undefined) fields.pid = pid;
  fields.sql = event.query.length > MAX_SQL_LENGTH ? `${event.query.slice(0, MAX_SQL_LENGTH)}…` : event.query;
  const params = event.parameters;
  if (Array.isArray(params) && params.length > 0) {
    fields.params = options.logParams ? params.map(formatParam) : `[${params.length} redacted]`;
  }
  return fields;
}

function formatParam(value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_PARAM_LENGTH) return `${value.slice(0, MAX_PARAM_LENGTH)}…`;
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  return value;
}

function rowCount(raw: unknown): number | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  if (Array.isArray(raw)) {
    // Several statements in one call: pg returns one result per statement.
    return raw.reduce<number>((sum, r) => sum + (rowCount(r) ?? 0), 0);
  }
  const count = (raw as { rowCount?: unknown }).rowCount;
  return typeof count === 'number' ? count : undefined;
}
