import { MigrationInterface, QueryRunner } from 'typeorm';

/** The event catalogue: per account and event name, the shape of the payloads ingest has seen. */
export class EventCatalogue1764900000300 implements MigrationInterface {
  name = 'EventCatalogue1764900000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_types (
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name text NOT NULL,
        count bigint NOT NULL,
        first_seen timestamptz NOT NULL,
        last_seen timestamptz NOT NULL,
        paths jsonb NOT NULL DEFAULT '{}',
        truncated boolean NOT NULL DEFAULT false,
        PRIMARY KEY (account_id, name)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_types`);
  }
}
