/**
 * API keys with roles. A key is shown once, when created; only its SHA-256 is stored (the lookup at
 * every request is one indexed read, see api/auth.ts), with a prefix to tell keys apart in lists.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { z } from 'zod';
import { ApiKeyEntity, type ApiKey, type Role } from '../db/entities';
import { ApiError } from '../shared/errors';
import { hashApiKey, newId, newSecret } from '../shared/ids';
import { recordAudit, type Actor } from './audit';
import { paginate, type Page, type PageQuery } from './pagination';

export const ROLES = ['ingest', 'read', 'full'] as const satisfies readonly Role[];

/**
 * The one place that says which role an operation needs: `ingest` may only send events, `read` may
 * make every GET, `full` may do everything. `any` is an operation every key may call (its own
 * description). The OpenAPI document states these (openapi.ts) and auth.ts enforces them.
 */
export function requiredRole(method: string, path: string): Role | 'any' {
  const m = method.toUpperCase();
  const p = path.replace(/\/+$/, '') || '/';
  if (m === 'POST' && (p === '/events' || p === '/events/batch')) return 'ingest';
  if ((m === 'GET' || m === 'HEAD') && p === '/keys/current') return 'any';
  if (m === 'GET' || m === 'HEAD') return 'read';
  return 'full';
}

export const roleAllows = (role: Role, needed: Role | 'any') =>
  needed === 'any' || role === 'full' || role === needed;

export const keyBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    role: z.enum(ROLES).meta({ description: '`ingest`: POST /events only; `read`: every GET; `full`: all' }),
  })
  .strict()
  .meta({ id: 'KeyInput' });

export const keySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z
      .string()
      .nullable()
      .meta({ description: 'The first characters of the key (null for keys migrated from before roles)' }),
    createdAt: z.string(),
    lastUsedAt: z
      .string()
      .nullable()
      .meta({ description: 'When the key last authenticated a request (updated at most once a minute)' }),
  })
  .meta({ id: 'Key' });
export type KeyDto = z.infer<typeof keySchema>;

export const createdKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  key: z.string().meta({ description: 'The secret: shown here once, never again' }),
  createdAt: z.string(),
});
export type CreatedKey = z.infer<typeof createdKeySchema>;

const PREFIX_LENGTH = 12;

export const toKeyDto = (k: ApiKey): KeyDto => ({
  id: k.id,
  name: k.name,
  role: k.role,
  prefix: k.prefix,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

/** Creates a key inside the caller's transaction (account creation makes its first `full` key so). */
export async function insertKey(
  manager: EntityManager,
  actor: Actor,
  name: string,
  role: Role,
): Promise<CreatedKey> {
  const key = newSecret('crm');
  const id = newId('key');
  const repo = manager.getRepository(ApiKeyEntity);
  await repo.insert({
    id,
    accountId: actor.accountId,
    name,
    role,
    keyHash: hashApiKey(key),
    prefix: key.slice(0, PREFIX_LENGTH),
  });
  const row = await repo.findOneByOrFail({ id });
  await recordAudit(manager, {
    ...actor,
    entity: 'key',
    entityId: id,
    action: 'create',
    after: toKeyDto(row),
  });
  return { id, name, role, key, createdAt: row.createdAt.toISOString() };
}

export class KeyService {
  constructor(private readonly db: DataSource) {}

  create(actor: Actor, body: z.infer<typeof keyBodySchema>): Promise<CreatedKey> {
    return this.db.transaction((m) => insertKey(m, actor, body.name, body.role));
  }

  list(accountId: string, page: PageQuery): Promise<Page<KeyDto>> {
    const qb = this.db
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.account_id = :accountId', { accountId });
    return paginate(qb, page, toKeyDto);
  }

  async get(accountId: string, id: string): Promise<KeyDto> {
    const row = await this.db.getRepository(ApiKeyEntity).findOneBy({ accountId, id });
    if (!row) throw ApiError.notFound('key');
    return toKeyDto(row);
  }

  /**
   * Deletes the key; returns its hash so this process can drop it from the auth cache at once. The
   * last `full` key stays (409): without it nobody could manage the account's keys.
   */
  revoke(actor: Actor, id: string): Promise<string> {
    return this.db.transaction(async (m) => {
      const repo = m.getRepository(ApiKeyEntity);
      const row = await repo.findOneBy({ accountId: actor.accountId, id });
      if (!row) throw ApiError.notFound('key');
      if (row.role === 'full') {
        // Locked, so two revokes at once cannot both pass this check.
        const full = await repo.find({
          where: { accountId: actor.accountId, role: 'full' },
          lock: { mode: 'pessimistic_write' },
        });
        if (full.length <= 1) {
          throw new ApiError(
            409,
            'last_full_key',
            "this is the account's last full key; create another full key before revoking it",
          );
        }
      }
      await repo.delete({ accountId: actor.accountId, id });
      await recordAudit(m, {
        ...actor,
        entity: 'key',
        entityId: id,
        action: 'revoke',
        before: toKeyDto(row),
      });
      return row.keyHash;
    });
  }
}
