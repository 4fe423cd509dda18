import { BastionError } from './bastion-error';

/** A migration failed and was rolled back (with the others, in `all` mode); names it and the statement that failed. */
export class MigrationError extends BastionError {
  readonly migration: string;
  /** The SQL statement that failed, when the failure came from the database. */
  readonly statement: string | undefined;

  constructor(migration: string, statement: string | undefined, rolledBack: string, options: { cause: unknown }) {
    const cause = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `Migration ${migration} failed and ${rolledBack}.` +
        (statement ? `\n  Statement: ${statement.trim().replace(/\s+/g, ' ')}` : '') +
        `\n  Cause: ${cause}` +
        '\n  Fix the migration (or the data it trips over) and run migration:run again.',
      options,
    );
    this.migration = migration;
    this.statement = statement;
  }
}
