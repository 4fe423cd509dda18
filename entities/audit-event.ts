import { IsObject, IsOptional, IsString, Length } from 'class-validator';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Who did what, when, with the details as JSON. Append-only. */
@Entity({ name: 'audit_events' })
@Index('audit_events_action_created_at_idx', ['action', 'createdAt'])
export class AuditEvent {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'audit_events_pkey' })
  id!: string;

  /** Who: a user, a service or a job name. */
  @Column({ type: 'text' })
  @IsString()
  @Length(1, 200)
  actor!: string;

  /** What: a dotted verb such as `transfer.completed`. */
  @Column({ type: 'text' })
  @IsString()
  @Length(1, 100)
  action!: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  @IsOptional()
  @IsObject()
  payload!: Record<string, unknown>;

  /** When. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
