import { IsInt, Matches } from 'class-validator';
import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Account } from './account';

/** A positive amount with at most two decimals, as a string. */
export const POSITIVE_MONEY = /^(?!0+(\.0+)?$)\d{1,18}(\.\d{1,2})?$/;

/** Money moved from one account to another; written once, never updated. */
@Entity({ name: 'transfers' })
@Check('transfers_amount_positive', '"amount" > 0')
@Check('transfers_distinct_accounts', '"from_account_id" <> "to_account_id"')
@Index('transfers_from_account_id_idx', ['fromAccountId', 'createdAt'])
@Index('transfers_to_account_id_idx', ['toAccountId', 'createdAt'])
export class Transfer {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'transfers_pkey' })
  id!: string;

  @Column({ name: 'from_account_id', type: 'integer' })
  @IsInt()
  fromAccountId!: number;

  @ManyToOne(() => Account, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'from_account_id', foreignKeyConstraintName: 'transfers_from_account_id_fkey' })
  fromAccount?: Account;

  @Column({ name: 'to_account_id', type: 'integer' })
  @IsInt()
  toAccountId!: number;

  @ManyToOne(() => Account, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'to_account_id', foreignKeyConstraintName: 'transfers_to_account_id_fkey' })
  toAccount?: Account;

  @Column({ type: 'numeric', precision: 20, scale: 2 })
  @Matches(POSITIVE_MONEY, { message: 'amount must be a positive amount with at most 2 decimals, as a string' })
  amount!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
