import { QueryFailedError, type DataSource } from 'typeorm';
import { ApiError } from '../shared/errors';
import { AccountEntity } from '../db/entities';
import { newWebhookSecret } from '../shared/signing';
import { newId } from '../shared/ids';
import { recordAudit } from './audit';
import { insertKey } from './keys';

export interface CreatedAccount {
  id: string;
  name: string;
  apiKey: string;
  webhookSecret: string;
}

/** The account and its first key, a `full` one, shown once here (only its hash is stored). */
export async function createAccount(db: DataSource, name: string, smsFrom?: string): Promise<CreatedAccount> {
  const id = newId('acc');
  const webhookSecret = newWebhookSecret();
  try {
    return await db.transaction(async (m) => {
      await m.getRepository(AccountEntity).insert({ id, name, webhookSecret, smsFrom: smsFrom ?? null });
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
  } catch (err) {
    // sms_from is unique: a STOP to a number must name the accounts that text from it.
    if (err instanceof QueryFailedError && (err.driverError as { code?: string })?.code === '23505') {
      throw new ApiError(409, 'conflict', 'smsFrom is already the sender of another account', [
        { path: 'smsFrom', message: 'already used by another account' },
      ]);
    }
    throw err;
  }
}
