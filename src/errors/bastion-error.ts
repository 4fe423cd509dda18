/** Options every bastion error accepts; `cause` keeps the original (driver) error. */
export interface BastionErrorOptions {
  cause?: unknown;
}

/** Root of every error bastion throws: `instanceof BastionError` separates ours from everything else. */
export class BastionError extends Error {
  constructor(message: string, options?: BastionErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/**
 * An error reported by PostgreSQL (or on the way to it) that carries a SQLSTATE `code`.
 * Subclasses name the cases callers branch on; an unmapped SQLSTATE stays a plain `QueryError`.
 */
export class QueryError extends BastionError {
  /** SQLSTATE (e.g. `23505`), or the system error code (e.g. `ECONNREFUSED`) for network failures. */
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined, options?: BastionErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** Whether re-running the whole transaction from the start may succeed. */
  get retryable(): boolean {
    return false;
  }
}
