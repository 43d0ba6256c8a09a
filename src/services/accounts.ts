import type { DataSource } from 'typeorm';
import { AccountEntity } from '../db/entities';
import { hashApiKey, newId, newSecret } from '../shared/ids';

export interface CreatedAccount {
  id: string;
  name: string;
  apiKey: string;
  webhookSecret: string;
}

/** The API key is shown once, here; only its hash is stored. */
export async function createAccount(db: DataSource, name: string): Promise<CreatedAccount> {
  const id = newId('acc');
  const apiKey = newSecret('crm');
  const webhookSecret = newSecret('whsec');
  await db.getRepository(AccountEntity).insert({ id, name, apiKeyHash: hashApiKey(apiKey), webhookSecret });
  return { id, name, apiKey, webhookSecret };
}
