import { IsOptional, Length } from 'class-validator';
import { Column, Entity, PrimaryColumn, UpdateDateColumn, VersionColumn } from 'typeorm';

/**
 * A test-only entity with one column of each kind the repository maps (natural UUID key, varchar(n), nullable
 * int, boolean, enum, text[], jsonb, timestamp without time zone, bigint, double precision, a `select: false`
 * column, version, update date) and no @DeleteDateColumn. Its table is made by `dataSource.synchronize()` in the
 * tests that use it.
 */
@Entity({ name: 'gadgets' })
export class Gadget {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 12, unique: true })
  @Length(2, 12)
  sku!: string;

  @Column({ type: 'integer', nullable: true })
  rank!: number | null;

  @Column({ type: 'boolean', default: false })
  active!: boolean;

  @Column({ type: 'enum', enum: ['red', 'green', 'blue'], default: 'red' })
  color!: 'red' | 'green' | 'blue';

  @Column({ type: 'text', array: true, default: '{}' })
  tags!: string[];

  @Column({ type: 'jsonb', nullable: true })
  @IsOptional()
  spec!: Record<string, unknown> | null;

  @Column({ name: 'seen_at', type: 'timestamp', nullable: true })
  seenAt!: Date | null;

  @Column({ type: 'bigint', default: 0 })
  hits!: string;

  @Column({ type: 'double precision', nullable: true })
  weight!: number | null;

  /** Never read back, as TypeORM's find does not select it. */
  @Column({ type: 'text', nullable: true, select: false })
  secret?: string | null;

  @VersionColumn()
  version!: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
