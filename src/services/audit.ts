/**
 * The audit trail: one entry per change to an account's configuration (rules, templates, users, keys,
 * account settings). Always written with the `EntityManager` of the change's own transaction, so a
 * change and its entry commit or roll back together. Rule entries carry the whole rule, which is
 * what GET /rules/:id/versions reads.
 */
import { IsNull, Not, type DataSource, type EntityManager } from 'typeorm';
import { z } from 'zod';
import { AuditEntity, type AuditEntry } from '../db/entities';
import { ApiError } from '../shared/errors';
import { paginate, pageQuerySchema, type Page, type PageQuery } from './pagination';

export type AuditAction = 'create' | 'update' | 'delete' | 'restore' | 'revoke' | 'rotate';

export interface AuditRecord {
  accountId: string;
  /** The API key that made the change; null for the operator (CLI, admin token). */
  keyId: string | null;
  entity: string;
  entityId: string;
  action: AuditAction;
  version?: number | null;
  before?: unknown;
  after?: unknown;
}

/** Who is acting: what routes pass down from `res.locals` (see api/auth.ts `actorOf`). */
export interface Actor {
  accountId: string;
  keyId: string | null;
}

export async function recordAudit(manager: EntityManager, r: AuditRecord): Promise<void> {
  await manager.getRepository(AuditEntity).insert({
    accountId: r.accountId,
    keyId: r.keyId,
    entity: r.entity,
    entityId: r.entityId,
    action: r.action,
    version: r.version ?? null,
    // JSON round trip: Dates become the ISO strings the API shows.
    before: r.before === undefined ? null : JSON.parse(JSON.stringify(r.before)),
    after: r.after === undefined ? null : JSON.parse(JSON.stringify(r.after)),
  } as never);
}

export const auditQuerySchema = pageQuerySchema.extend({
  entity: z
    .string()
    .max(40)
    .optional()
    .meta({ description: '`rule`, `template`, `user`, `key`, `account`…' }),
  entityId: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'Entries at or after this time' }),
  until: z.iso.datetime({ offset: true }).optional().meta({ description: 'Entries before this time' }),
});

export const auditEntrySchema = z
  .object({
    id: z.string().meta({ description: 'The entry (its position in the trail)' }),
    at: z.string(),
    keyId: z
      .string()
      .nullable()
      .meta({ description: 'The API key that made the change (null: the operator)' }),
    entity: z.string(),
    entityId: z.string(),
    action: z.string(),
    version: z.number().int().nullable(),
    before: z.unknown().meta({ description: 'The entity before the change (null on create)' }),
    after: z.unknown().meta({ description: 'The entity after the change (null on delete)' }),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntryDto = z.infer<typeof auditEntrySchema>;

const toDto = (e: AuditEntry): AuditEntryDto => ({
  id: String(e.seq),
  at: e.at.toISOString(),
  keyId: e.keyId,
  entity: e.entity,
  entityId: e.entityId,
  action: e.action,
  version: e.version,
  before: e.before ?? null,
  after: e.after ?? null,
});

export function listAudit(
  db: DataSource,
  accountId: string,
  q: z.infer<typeof auditQuerySchema>,
): Promise<Page<AuditEntryDto>> {
  const qb = db
    .getRepository(AuditEntity)
    .createQueryBuilder('a')
    .where('a.account_id = :accountId', { accountId });
  if (q.entity !== undefined) qb.andWhere('a.entity = :entity', { entity: q.entity });
  if (q.entityId !== undefined) qb.andWhere('a.entity_id = :entityId', { entityId: q.entityId });
  if (q.since !== undefined) qb.andWhere('a.at >= :since', { since: new Date(q.since) });
  if (q.until !== undefined) qb.andWhere('a.at < :until', { until: new Date(q.until) });
  return paginate(qb, { limit: q.limit, cursor: q.cursor }, toDto);
}

/** The versions of one rule, oldest first, from its audit entries (each holds the whole rule). */
export function ruleVersions(
  db: DataSource,
  accountId: string,
  ruleId: string,
  page: PageQuery,
): Promise<Page<AuditEntryDto>> {
  const qb = db
    .getRepository(AuditEntity)
    .createQueryBuilder('a')
    .where('a.account_id = :accountId AND a.entity = :entity AND a.entity_id = :ruleId', {
      accountId,
      entity: 'rule',
      ruleId,
    })
    .andWhere('a.after IS NOT NULL');
  return paginate(qb, page, toDto);
}

export async function ruleVersion(
  db: DataSource,
  accountId: string,
  ruleId: string,
  version: number,
): Promise<AuditEntryDto> {
  const row = await db.getRepository(AuditEntity).findOne({
    where: { accountId, entity: 'rule', entityId: ruleId, version, after: Not(IsNull()) },
    order: { seq: 'DESC' },
  });
  if (!row?.after) throw ApiError.notFound('rule version');
  return toDto(row);
}
