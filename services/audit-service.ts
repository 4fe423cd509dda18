import { AuditEvent } from '../entities/audit-event';
import { AuditEventRepository } from '../repositories/audit-event-repository';
import { Transactional } from '../src';

/** The ledger's audit trail: three ways an event relates to the work it describes. */
export class AuditService {
  constructor(private readonly events = new AuditEventRepository()) {}

  /** Part of the caller's change, atomic with it: MANDATORY refuses to run without a transaction. */
  @Transactional({ propagation: 'MANDATORY' })
  record(actor: string, action: string, payload: Record<string, unknown>): Promise<AuditEvent> {
    return this.events.create({ actor, action, payload });
  }

  /** The trail of a failed attempt: REQUIRES_NEW commits it on its own connection, even as the caller rolls back. */
  @Transactional({ propagation: 'REQUIRES_NEW' })
  recordFailure(actor: string, action: string, payload: Record<string, unknown>): Promise<AuditEvent> {
    return this.events.create({ actor, action, payload });
  }

  /**
   * Who looked at what: written outside any transaction (NOT_SUPPORTED, one autocommitted INSERT on the pool), so a
   * read-only or rolled-back caller still leaves it.
   */
  @Transactional({ propagation: 'NOT_SUPPORTED' })
  recordAccess(actor: string, action: string, payload: Record<string, unknown>): Promise<AuditEvent> {
    return this.events.create({ actor, action, payload });
  }
}
