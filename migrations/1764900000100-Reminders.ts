import { MigrationInterface, QueryRunner } from 'typeorm';

/** Send windows on rules, accounts' timezone, and the lookup of rules that follow an event by key. */
export class Reminders1764900000100 implements MigrationInterface {
  name = 'Reminders1764900000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts ADD COLUMN timezone text NOT NULL DEFAULT 'UTC'`);
    await q.query(`ALTER TABLE rules ADD COLUMN send_window jsonb`);
    // Ingest also finds rules whose trigger.updateOn / trigger.cancelOn name the event (containment).
    await q.query(
      `CREATE INDEX rules_follow ON rules USING gin (trigger jsonb_path_ops) WHERE enabled AND trigger ? 'key'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX rules_follow`);
    await q.query(`ALTER TABLE rules DROP COLUMN send_window`);
    await q.query(`ALTER TABLE accounts DROP COLUMN timezone`);
  }
}
