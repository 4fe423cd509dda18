import { IsIn, IsInt, IsOptional, Matches } from 'class-validator';
import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { Customer } from './customer';

/** Currencies the sample ledger keeps accounts in. */
export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** A non-negative amount with at most two decimals, as a string: money is never a float. */
export const MONEY = /^\d{1,18}(\.\d{1,2})?$/;

/**
 * A customer's account. The balance is `numeric(20,2)` and travels as a string; the database refuses a
 * negative balance (CHECK), and the version column gives `update()` optimistic locking.
 */
@Entity({ name: 'accounts' })
@Check('accounts_balance_non_negative', '"balance" >= 0')
export class Account {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'accounts_pkey' })
  id!: number;

  @Column({ name: 'owner_id', type: 'integer' })
  @Index('accounts_owner_id_idx')
  @IsInt()
  ownerId!: number;

  @ManyToOne(() => Customer, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'accounts_owner_id_fkey' })
  owner?: Customer;

  @Column({ type: 'char', length: 3 })
  @IsIn(CURRENCIES)
  currency!: Currency;

  @Column({ type: 'numeric', precision: 20, scale: 2, default: 0 })
  @IsOptional()
  @Matches(MONEY, { message: 'balance must be a non-negative amount with at most 2 decimals, as a string' })
  balance!: string;

  @VersionColumn()
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
