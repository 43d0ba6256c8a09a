import { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys with roles (several per account) and the audit trail, which also holds rule versions. */
export class KeysAudit1764900000400 implements MigrationInterface {
  name = 'KeysAudit1764900000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        seq bigserial NOT NULL UNIQUE,
        id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('ingest', 'read', 'full')),
        key_hash text NOT NULL UNIQUE,
        prefix text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_account_seq ON api_keys (account_id, seq)`);
    // The one key each account had becomes a `full` key (its prefix is unknown: only the hash was kept).
    await q.query(`
      INSERT INTO api_keys (id, account_id, name, role, key_hash)
      SELECT 'key_' || substr(md5(id), 1, 14), id, 'default', 'full', api_key_hash FROM accounts`);
    await q.query(`ALTER TABLE accounts DROP COLUMN api_key_hash`);
    await q.query(`
      CREATE TABLE audit_entries (
        seq bigserial PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        key_id text,
        at timestamptz NOT NULL DEFAULT now(),
        entity text NOT NULL,
        entity_id text NOT NULL,
        action text NOT NULL,
        version int,
        before jsonb,
        after jsonb
      )`);
    await q.query(`CREATE INDEX audit_account_seq ON audit_entries (account_id, seq)`);
    await q.query(`CREATE INDEX audit_entity ON audit_entries (account_id, entity, entity_id, seq)`);
    // Rules of before keep their current version readable (and restorable) at GET /rules/:id/versions.
    const iso = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    await q.query(`
      INSERT INTO audit_entries (account_id, entity, entity_id, action, version, after)
      SELECT account_id, 'rule', id, 'snapshot', version, jsonb_build_object(
        'id', id, 'name', name, 'description', description, 'enabled', enabled, 'trigger', trigger,
        'delay', delay, 'conditions', conditions, 'actions', actions, 'version', version,
        'createdAt', ${iso('created_at')}, 'updatedAt', ${iso('updated_at')})
      FROM rules ORDER BY seq`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_entries`);
    await q.query(`ALTER TABLE accounts ADD COLUMN api_key_hash text UNIQUE`);
    // Keeps one full key per account (the oldest); the others are lost with the table.
    await q.query(`
      UPDATE accounts a SET api_key_hash = (
        SELECT k.key_hash FROM api_keys k WHERE k.account_id = a.id AND k.role = 'full' ORDER BY k.seq LIMIT 1)`);
    await q.query(`DROP TABLE api_keys`);
  }
}
