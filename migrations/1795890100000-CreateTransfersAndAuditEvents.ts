import { MigrationInterface, QueryRunner } from 'typeorm';

/** Money movements between accounts, and the audit trail: both append-only. */
export class CreateTransfersAndAuditEvents1795890100000 implements MigrationInterface {
  name = 'CreateTransfersAndAuditEvents1795890100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "transfers" (
        "id" BIGSERIAL NOT NULL,
        "from_account_id" integer NOT NULL,
        "to_account_id" integer NOT NULL,
        "amount" numeric(20, 2) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "transfers_amount_positive" CHECK ("amount" > 0),
        CONSTRAINT "transfers_distinct_accounts" CHECK ("from_account_id" <> "to_account_id"),
        CONSTRAINT "transfers_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "transfers_from_account_id_fkey" FOREIGN KEY ("from_account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE NO ACTION,
        CONSTRAINT "transfers_to_account_id_fkey" FOREIGN KEY ("to_account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await queryRunner.query(`CREATE INDEX "transfers_from_account_id_idx" ON "transfers" ("from_account_id", "created_at")`);
    await queryRunner.query(`CREATE INDEX "transfers_to_account_id_idx" ON "transfers" ("to_account_id", "created_at")`);
    await queryRunner.query(`
      CREATE TABLE "audit_events" (
        "id" BIGSERIAL NOT NULL,
        "actor" text NOT NULL,
        "action" text NOT NULL,
        "payload" jsonb NOT NULL DEFAULT '{}',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "audit_events_action_created_at_idx" ON "audit_events" ("action", "created_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP TABLE "transfers"`);
  }
}
