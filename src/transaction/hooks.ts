import { TransactionRequiredError } from '../errors/transaction-errors';
import type { Log } from '../logging/logger';
import { currentScope, TransactionHook, TransactionScope } from './transaction-scope';

function activeScope(connection: string, what: string): TransactionScope {
  const scope = currentScope(connection);
  if (!scope) {
    throw new TransactionRequiredError(
      `${what}() needs an active transaction${connection === 'default' ? '' : ` on '${connection}'`}: call it inside ` +
        '@Transactional() or withTransaction().',
    );
  }
  return scope;
}

/**
 * Runs `fn` after the outermost transaction commits (after COMMIT succeeded and the connection was released).
 * Registered inside a NESTED savepoint that rolls back, it is dropped. A hook that throws is logged and does not
 * change the outcome.
 */
export function runOnCommit(fn: TransactionHook, connection = 'default'): void {
  activeScope(connection, 'runOnCommit').commitHooks.push(fn);
}

/** Runs `fn` after the transaction (or the NESTED savepoint it was registered in) rolls back. */
export function runOnRollback(fn: TransactionHook, connection = 'default'): void {
  activeScope(connection, 'runOnRollback').rollbackHooks.push(fn);
}

/** Runs hooks in registration order, each in its own try/catch, so one failure neither stops the rest nor escapes. */
export async function runHooks(hooks: readonly TransactionHook[], kind: 'commit' | 'rollback', transactionId: number, log: Log): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      log.error(`${kind} hook failed`, {
        tx: transactionId,
        hook: hook.name || 'anonymous',
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
