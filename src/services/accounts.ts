import { QueryFailedError, type DataSource } from 'typeorm';
import { ApiError } from '../shared/errors';
import { AccountEntity } from '../db/entities';
import { newWebhookSecret } from '../shared/signing';
import { hashApiKey, newId, newSecret } from '../shared/ids';

export interface CreatedAccount {
  id: string;
  name: string;
  apiKey: string;
  webhookSecret: string;
}

/** The API key is shown once, here; only its hash is stored. */
export async function createAccount(db: DataSource, name: string, smsFrom?: string): Promise<CreatedAccount> {
  const id = newId('acc');
  const apiKey = newSecret('crm');
  const webhookSecret = newWebhookSecret();
  try {
    await db
      .getRepository(AccountEntity)
      .insert({ id, name, apiKeyHash: hashApiKey(apiKey), webhookSecret, smsFrom: smsFrom ?? null });
  } catch (err) {
    // sms_from is unique: a STOP to a number must name the accounts that text from it.
    if (err instanceof QueryFailedError && (err.driverError as { code?: string })?.code === '23505') {
      throw new ApiError(409, 'conflict', 'smsFrom is already the sender of another account', [
        { path: 'smsFrom', message: 'already used by another account' },
      ]);
    }
    throw err;
  }
  return { id, name, apiKey, webhookSecret };
}
