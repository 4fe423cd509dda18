import { Account } from '../entities/account';
import { AuditEvent } from '../entities/audit-event';
import { Customer } from '../entities/customer';
import { Transfer } from '../entities/transfer';
import { CreateCustomersAndAccounts1795890000000 } from '../migrations/1795890000000-CreateCustomersAndAccounts';
import { CreateTransfersAndAuditEvents1795890100000 } from '../migrations/1795890100000-CreateTransfersAndAuditEvents';

/**
 * The sample ledger as classes, for `Database.connect({ entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS })`
 * and for tests. The default globs (`entities/**`, `migrations/**`) load the same classes; this list lives outside
 * those folders so that a glob never loads an entity twice.
 */
export const LEDGER_ENTITIES = [Customer, Account, Transfer, AuditEvent];

/** The ledger's migrations, oldest first. */
export const LEDGER_MIGRATIONS = [CreateCustomersAndAccounts1795890000000, CreateTransfersAndAuditEvents1795890100000];
