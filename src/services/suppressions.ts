/**
 * The suppression list: addresses an account must not message (a STOP by SMS, a one-click
 * unsubscribe, or the account's own entry). Every write goes through `writeSuppressions`, the one
 * place an audit trail hooks in; the delivery activities read it through `consentFor`.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { SuppressionEntity, type Suppression } from '../db/entities';
import { ApiError } from '../shared/errors';
import { newId } from '../shared/ids';
import { emailSchema, phoneSchema } from '../shared/schemas';
import { recordAudit } from './audit';
import { paginate, type Page, type PageQuery } from './pagination';

export const SUPPRESSION_CHANNELS = ['sms', 'email'] as const;
export type SuppressionChannel = (typeof SUPPRESSION_CHANNELS)[number];
export type SuppressionSource = 'api' | 'sms_keyword' | 'unsubscribe';

export interface SuppressionDto {
  id: string;
  channel: SuppressionChannel;
  address: string;
  reason: string | null;
  source: string;
  createdAt: string;
}

export const toSuppressionDto = (s: Suppression): SuppressionDto => ({
  id: s.id,
  channel: s.channel,
  address: s.address,
  reason: s.reason,
  source: s.source,
  createdAt: s.createdAt.toISOString(),
});

/**
 * The one spelling an address is stored and looked up in: E.164 for phones (spaces, dashes, dots
 * and brackets dropped, a leading 00 read as +), lower case for email. null when it is neither.
 */
export function normalizeAddress(channel: SuppressionChannel, address: string): string | null {
  if (channel === 'email') {
    const email = address.trim().toLowerCase();
    return emailSchema.safeParse(email).success ? email : null;
  }
  const phone = address
    .trim()
    .replace(/[\s().-]/g, '')
    .replace(/^00/, '+');
  return phoneSchema.safeParse(phone).success ? phone : null;
}

export type SuppressionWrite =
  | {
      op: 'add';
      accountId: string;
      channel: SuppressionChannel;
      address: string;
      reason: string | null;
      source: SuppressionSource;
    }
  | {
      op: 'remove';
      accountId: string;
      channel: SuppressionChannel;
      address: string;
      source: SuppressionSource;
    }
  | { op: 'delete'; accountId: string; id: string; source: SuppressionSource };

export interface SuppressionChange {
  op: 'added' | 'removed';
  row: Suppression;
}

/**
 * Applies suppression writes in one transaction and returns what changed (an add of an address
 * already suppressed changes nothing; its first reason stays). Addresses must be normalised.
 */
export async function writeSuppressions(
  db: DataSource,
  writes: SuppressionWrite[],
  /** The API key that asked; null for STOP texts and unsubscribe links (the recipient's own act). */
  keyId: string | null = null,
): Promise<SuppressionChange[]> {
  return db.transaction(async (m: EntityManager) => {
    const changes: SuppressionChange[] = [];
    const repo = m.getRepository(SuppressionEntity);
    for (const w of writes) {
      if (w.op === 'add') {
        const inserted = await m
          .createQueryBuilder()
          .insert()
          .into(SuppressionEntity)
          .values({
            id: newId('sup'),
            accountId: w.accountId,
            channel: w.channel,
            address: w.address,
            reason: w.reason,
            source: w.source,
          })
          .orIgnore()
          .returning('*')
          .execute();
        const raw = inserted.raw as Record<string, unknown>[];
        if (raw.length) {
          const row = await repo.findOneByOrFail({ id: String(raw[0].id) });
          changes.push({ op: 'added', row });
        }
      } else {
        const where =
          w.op === 'delete'
            ? { accountId: w.accountId, id: w.id }
            : { accountId: w.accountId, channel: w.channel, address: w.address };
        const row = await repo.findOneBy(where);
        if (row) {
          await repo.delete({ id: row.id });
          changes.push({ op: 'removed', row });
        }
      }
    }
    // Each change in the audit trail, in the same transaction.
    for (const { op, row } of changes)
      await recordAudit(m, {
        accountId: row.accountId,
        keyId,
        entity: 'suppression',
        entityId: row.id,
        action: op === 'added' ? 'create' : 'delete',
        [op === 'added' ? 'after' : 'before']: toSuppressionDto(row),
      });
    return changes;
  });
}

export class SuppressionService {
  constructor(private readonly db: DataSource) {}

  list(
    accountId: string,
    filters: { channel?: SuppressionChannel; address?: string },
    page: PageQuery,
  ): Promise<Page<SuppressionDto>> {
    const qb = this.db
      .getRepository(SuppressionEntity)
      .createQueryBuilder('s')
      .where('s.account_id = :accountId', { accountId });
    if (filters.channel) qb.andWhere('s.channel = :channel', { channel: filters.channel });
    if (filters.address !== undefined) {
      // The address is matched in its stored spelling, whichever channel it reads as.
      const forms = SUPPRESSION_CHANNELS.filter((c) => !filters.channel || c === filters.channel)
        .map((c) => normalizeAddress(c, filters.address!))
        .filter((a): a is string => a !== null);
      qb.andWhere('s.address IN (:...forms)', { forms: forms.length ? forms : [filters.address] });
    }
    return paginate(qb, page, toSuppressionDto);
  }

  async create(
    accountId: string,
    keyId: string | null,
    body: { channel: SuppressionChannel; address: string; reason?: string | null },
  ): Promise<{ created: boolean; suppression: SuppressionDto }> {
    const address = normalizeAddress(body.channel, body.address);
    if (!address) {
      const what = body.channel === 'sms' ? 'an E.164 phone number' : 'an email address';
      throw new ApiError(400, 'validation_failed', `address is not ${what}`, [
        { path: 'address', message: `must be ${what}` },
      ]);
    }
    const [change] = await writeSuppressions(
      this.db,
      [{ op: 'add', accountId, channel: body.channel, address, reason: body.reason ?? null, source: 'api' }],
      keyId,
    );
    const row =
      change?.row ??
      (await this.db
        .getRepository(SuppressionEntity)
        .findOneByOrFail({ accountId, channel: body.channel, address }));
    return { created: Boolean(change), suppression: toSuppressionDto(row) };
  }

  async delete(accountId: string, keyId: string | null, id: string): Promise<void> {
    const changes = await writeSuppressions(this.db, [{ op: 'delete', accountId, id, source: 'api' }], keyId);
    if (!changes.length) throw ApiError.notFound('suppression');
  }
}

export interface Consent {
  /** Why this recipient must not get this message; null: send it. */
  suppressed: string | null;
  /** The account's own SMS sender, when the operator gave it one. */
  smsFrom: string | null;
}

/**
 * The send-time check: in one indexed round trip, the account's suppression of this address, the
 * preference of the user the message is addressed to, and the account's SMS sender. null when the
 * account no longer exists.
 */
export async function consentFor(
  db: DataSource,
  accountId: string,
  channel: SuppressionChannel,
  address: string,
  userId: string | undefined,
): Promise<Consent | null> {
  const normalized = normalizeAddress(channel, address) ?? address;
  const rows: {
    sms_from: string | null;
    reason: string | null;
    source: string | null;
    opted_out: boolean | null;
  }[] = await db.query(
    `SELECT a.sms_from,
              s.reason, s.source,
              (SELECT true FROM users u
                WHERE u.id = $4 AND u.account_id = a.id AND u.preferences->>$2 = 'false') AS opted_out
         FROM accounts a
         LEFT JOIN suppressions s ON s.account_id = a.id AND s.channel = $2 AND s.address = $3
        WHERE a.id = $1`,
    [accountId, channel, normalized, userId ?? null],
  );
  const row = rows[0];
  if (!row) return null;
  const suppressed = row.source
    ? `${channel === 'sms' ? 'number' : 'address'} is on the suppression list (${row.source}${row.reason ? `: ${row.reason}` : ''})`
    : row.opted_out
      ? `the user turned ${channel} off in their preferences`
      : null;
  return { suppressed, smsFrom: row.sms_from };
}
