import type { Logger as TypeOrmLoggerContract, QueryRunner } from 'typeorm';
import type { Log } from './logger';

/**
 * TypeORM's Logger, routed into bastion's log. Query lines (with duration and row count) and query errors come
 * from `QueryLogSubscriber` after each query completes, so the per-query callbacks here stay silent: logging a
 * query before it runs would double every line and carry no duration.
 */
export class TypeOrmLogger implements TypeOrmLoggerContract {
  constructor(private readonly target: Log) {}

  logQuery(): void {}

  logQueryError(): void {}

  logQuerySlow(): void {}

  logSchemaBuild(message: string, _queryRunner?: QueryRunner): void {
    this.target.debug('schema', { detail: message });
  }

  logMigration(message: string, _queryRunner?: QueryRunner): void {
    this.target.info(message, { component: 'migration' });
  }

  log(level: 'log' | 'info' | 'warn', message: unknown, _queryRunner?: QueryRunner): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (level === 'warn') this.target.warn(text, { component: 'typeorm' });
    else if (level === 'info') this.target.info(text, { component: 'typeorm' });
    else this.target.debug(text, { component: 'typeorm' });
  }
}
