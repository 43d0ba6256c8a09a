import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Consent and proof of delivery: the suppression list, user channel preferences, per-account SMS
 * senders, delivery receipts on the ledger, and the webhook secret that is being rotated out.
 */
export class Consent1764900000200 implements MigrationInterface {
  name = 'Consent1764900000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE suppressions (
        seq bigserial NOT NULL UNIQUE,
        id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        channel text NOT NULL,
        address text NOT NULL,
        reason text,
        source text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, channel, address)
      )`);
    await q.query(`CREATE INDEX suppressions_account_seq ON suppressions (account_id, seq)`);
    await q.query(`ALTER TABLE users ADD COLUMN preferences jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE accounts ADD COLUMN sms_from text UNIQUE`);
    await q.query(`ALTER TABLE accounts ADD COLUMN previous_webhook_secret text`);
    await q.query(`ALTER TABLE accounts ADD COLUMN previous_secret_valid_until timestamptz`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN status text`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN status_rank smallint`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN status_at timestamptz`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN error_code text`);
    // Receipts find their delivery by the provider's message id; the execution log by the run.
    await q.query(
      `CREATE INDEX deliveries_provider_id ON deliveries (provider_id) WHERE provider_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX deliveries_workflow ON deliveries (account_id, workflow_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS deliveries_workflow`);
    await q.query(`DROP INDEX IF EXISTS deliveries_provider_id`);
    for (const c of ['status', 'status_rank', 'status_at', 'error_code'])
      await q.query(`ALTER TABLE deliveries DROP COLUMN IF EXISTS ${c}`);
    for (const c of ['sms_from', 'previous_webhook_secret', 'previous_secret_valid_until'])
      await q.query(`ALTER TABLE accounts DROP COLUMN IF EXISTS ${c}`);
    await q.query(`ALTER TABLE users DROP COLUMN IF EXISTS preferences`);
    await q.query(`DROP TABLE IF EXISTS suppressions`);
  }
}
