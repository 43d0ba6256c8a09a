import type { DataSource } from 'typeorm';
import { AccountEntity } from '../db/entities';
import { newId, newSecret } from '../shared/ids';
import { recordAudit } from './audit';
import { insertKey } from './keys';

export interface CreatedAccount {
  id: string;
  name: string;
  apiKey: string;
  webhookSecret: string;
}

/** The account and its first key, a `full` one, shown once here (only its hash is stored). */
export async function createAccount(db: DataSource, name: string): Promise<CreatedAccount> {
  const id = newId('acc');
  const webhookSecret = newSecret('whsec');
  return db.transaction(async (m) => {
    await m.getRepository(AccountEntity).insert({ id, name, webhookSecret });
    const actor = { accountId: id, keyId: null };
    await recordAudit(m, {
      ...actor,
      entity: 'account',
      entityId: id,
      action: 'create',
      after: { id, name },
    });
    const key = await insertKey(m, actor, 'default', 'full');
    return { id, name, apiKey: key.key, webhookSecret };
  });
}
