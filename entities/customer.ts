import { IsEmail, IsString, Length } from 'class-validator';
import { Column, CreateDateColumn, DeleteDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

/** Someone who owns accounts. Soft-deleted: a closed customer keeps their history (and their email). */
@Entity({ name: 'customers' })
@Unique('customers_email_key', ['email'])
export class Customer {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'customers_pkey' })
  id!: number;

  @Column({ type: 'text' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @Column({ type: 'text' })
  @IsEmail()
  email!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz' })
  deletedAt!: Date | null;
}
