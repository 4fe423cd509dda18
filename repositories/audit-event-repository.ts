import { AuditEvent } from '../entities/audit-event';
import { BaseRepository } from '../src';

/** Audit events. Custom query: events whose JSON payload contains the given fields. */
export class AuditEventRepository extends BaseRepository<AuditEvent> {
  constructor() {
    super(AuditEvent);
  }

  /** Events with `action` whose payload contains `fields` (jsonb `@>`), newest first. */
  findByPayload(action: string, fields: Record<string, unknown>, limit = 50): Promise<AuditEvent[]> {
    return this.run(() =>
      this.repository
        .createQueryBuilder('event')
        .where('event.action = :action', { action })
        .andWhere('event.payload @> CAST(:fields AS jsonb)', { fields: JSON.stringify(fields) })
        .orderBy('event.createdAt', 'DESC')
        .addOrderBy('event.id', 'DESC')
        .limit(Math.min(Math.max(Math.trunc(limit), 1), 500))
        .getMany(),
    );
  }
}
