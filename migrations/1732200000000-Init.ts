import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1732200000000 implements MigrationInterface {
  name = 'Init1732200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id text PRIMARY KEY,
        name text NOT NULL,
        api_key_hash text NOT NULL UNIQUE,
        webhook_secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        seq bigserial NOT NULL UNIQUE,
        id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        external_id text,
        name text,
        email text,
        phone text,
        timezone text,
        attributes jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, external_id)
      )`);
    await q.query(`CREATE INDEX users_account_seq ON users (account_id, seq)`);
    await q.query(`
      CREATE TABLE rules (
        seq bigserial NOT NULL UNIQUE,
        id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text,
        enabled boolean NOT NULL,
        trigger jsonb NOT NULL,
        event_name text GENERATED ALWAYS AS (trigger->>'eventName') STORED,
        delay jsonb NOT NULL,
        conditions jsonb NOT NULL,
        actions jsonb NOT NULL,
        version int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX rules_account_seq ON rules (account_id, seq)`);
    // Ingest looks up an account's enabled rules for one event name on every event.
    await q.query(`CREATE INDEX rules_match ON rules (account_id, event_name) WHERE enabled`);
    await q.query(`
      CREATE TABLE email_templates (
        seq bigserial NOT NULL UNIQUE,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        id text NOT NULL,
        name text NOT NULL,
        subject text NOT NULL,
        text text,
        html text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, id)
      )`);
    await q.query(`
      CREATE TABLE deliveries (
        idempotency_key text PRIMARY KEY,
        account_id text NOT NULL,
        workflow_id text NOT NULL,
        action_index int NOT NULL,
        channel text NOT NULL,
        provider_id text,
        delivered_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE outbox_messages (
        seq bigserial NOT NULL UNIQUE,
        id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        channel text NOT NULL,
        recipient text NOT NULL,
        subject text,
        body text,
        html text,
        payload jsonb,
        workflow_id text NOT NULL,
        rule_id text,
        idempotency_key text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX outbox_account_seq ON outbox_messages (account_id, seq)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['outbox_messages', 'deliveries', 'email_templates', 'rules', 'users', 'accounts']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
