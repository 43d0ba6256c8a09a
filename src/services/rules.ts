import type { DataSource, EntityManager } from 'typeorm';
import { RuleEntity, type RuleRow } from '../db/entities';
import { ApiError } from '../shared/errors';
import { newId } from '../shared/ids';
import { delayMs, type Rule, type RuleBody } from '../shared/schemas';
import type { FollowSpec, MatchedRule } from '../shared/run-types';
import { recordAudit } from './audit';
import { paginate, type Page, type PageQuery } from './pagination';

/**
 * How a rule change is made: by which key (for the audit trail), and what else must succeed inside
 * its transaction (the Schedule sync), so the rule, its audit entry and its Schedule agree.
 */
export interface RuleChange {
  keyId?: string | null;
  then?: (rule: Rule) => Promise<void>;
  action?: 'update' | 'restore';
}

export function toRule(row: RuleRow): Rule {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: row.enabled,
    trigger: row.trigger as Rule['trigger'],
    delay: row.delay as Rule['delay'],
    // Only rules with a send window show one: other rules read exactly as before.
    ...(row.sendWindow && { window: row.sendWindow as NonNullable<Rule['window']> }),
    conditions: row.conditions as Rule['conditions'],
    actions: row.actions as Rule['actions'],
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function delayText(d: Rule['delay']): string {
  if ('until' in d) {
    const at = `${d.until.fact}${d.until.path.slice(1)}`;
    if (d.offset.value === 0) return `until ${at}`;
    const n = Math.abs(d.offset.value);
    return `${n} ${n === 1 ? d.offset.unit.replace(/s$/, '') : d.offset.unit} ${d.offset.value < 0 ? 'before' : 'after'} ${at}`;
  }
  if (d.value === 0) return 'no delay';
  return `${d.value} ${d.value === 1 ? d.unit.replace(/s$/, '') : d.unit}`;
}

export class RuleService {
  constructor(private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(RuleEntity);
  }

  async create(accountId: string, body: RuleBody, change: RuleChange = {}): Promise<Rule> {
    return this.db.transaction(async (m) => {
      const repo = m.getRepository(RuleEntity);
      const row = repo.create({ ...fields(body), id: newId('rule'), accountId, version: 1 });
      await repo.insert(row);
      const rule = await this.get(accountId, row.id, m);
      await recordAudit(m, {
        accountId,
        keyId: change.keyId ?? null,
        entity: 'rule',
        entityId: rule.id,
        action: 'create',
        version: rule.version,
        after: rule,
      });
      await change.then?.(rule);
      return rule;
    });
  }

  /** With `lock`, the row is locked until the transaction of `m` ends (the audit's `before`). */
  async find(accountId: string, id: string, m?: EntityManager, lock = false): Promise<Rule | null> {
    const row = await (m ?? this.db.manager).getRepository(RuleEntity).findOne({
      where: { accountId, id },
      ...(lock && { lock: { mode: 'pessimistic_write' as const } }),
    });
    return row ? toRule(row) : null;
  }

  async get(accountId: string, id: string, m?: EntityManager, lock = false): Promise<Rule> {
    const rule = await this.find(accountId, id, m, lock);
    if (!rule) throw ApiError.notFound('rule');
    return rule;
  }

  list(
    accountId: string,
    filters: { eventName?: string; enabled?: boolean },
    page: PageQuery,
  ): Promise<Page<Rule>> {
    const qb = this.repo.createQueryBuilder('r').where('r.account_id = :accountId', { accountId });
    if (filters.eventName !== undefined)
      qb.andWhere('r.event_name = :eventName', { eventName: filters.eventName });
    if (filters.enabled !== undefined) qb.andWhere('r.enabled = :enabled', { enabled: filters.enabled });
    return paginate(qb, page, toRule);
  }

  /**
   * Replaces the rule and bumps its version in one statement, so concurrent edits each get a version.
   * With `expectedVersion`, only that version is replaced (409 otherwise): PATCH merges onto what it read.
   */
  async replace(
    accountId: string,
    id: string,
    body: RuleBody,
    expectedVersion?: number,
    change: RuleChange = {},
  ): Promise<Rule> {
    return this.db.transaction(async (m) => {
      const before = await this.find(accountId, id, m, true);
      if (!before) throw ApiError.notFound('rule');
      if (expectedVersion !== undefined && before.version !== expectedVersion) {
        throw new ApiError(409, 'conflict', 'the rule changed while this request was applied; retry');
      }
      await m
        .getRepository(RuleEntity)
        .createQueryBuilder()
        .update()
        .set({ ...fields(body), version: () => 'version + 1', updatedAt: () => 'now()' })
        .where('account_id = :accountId AND id = :id', { accountId, id })
        .execute();
      const rule = await this.get(accountId, id, m);
      await recordAudit(m, {
        accountId,
        keyId: change.keyId ?? null,
        entity: 'rule',
        entityId: id,
        action: change.action ?? 'update',
        version: rule.version,
        before,
        after: rule,
      });
      await change.then?.(rule);
      return rule;
    });
  }

  /** Rules whose email actions name a template, with the index of each such action. */
  async usingTemplate(
    accountId: string,
    templateId: string,
  ): Promise<{ id: string; name: string; actionIndexes: number[] }[]> {
    const rows = await this.repo
      .createQueryBuilder('r')
      .where('r.account_id = :accountId', { accountId })
      .andWhere('r.actions @> :needle::jsonb', {
        needle: JSON.stringify([{ type: 'email', params: { templateId } }]),
      })
      .orderBy('r.seq', 'ASC')
      .getMany();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      actionIndexes: (r.actions as Rule['actions']).flatMap((a, i) =>
        a.type === 'email' && a.params.templateId === templateId ? [i] : [],
      ),
    }));
  }

  /** The rule's history stays in the audit trail (GET /audit?entity=rule&entityId=…). */
  async delete(accountId: string, id: string, change: RuleChange = {}): Promise<void> {
    await this.db.transaction(async (m) => {
      const before = await this.get(accountId, id, m, true);
      await m.getRepository(RuleEntity).delete({ accountId, id });
      await recordAudit(m, {
        accountId,
        keyId: change.keyId ?? null,
        entity: 'rule',
        entityId: id,
        action: 'delete',
        version: before.version,
        before,
      });
      await change.then?.(before);
    });
  }

  /**
   * The ingest-time lookup, one query: the rules this event triggers (index rules_match), and the keyed
   * rules whose updateOn or cancelOn names it (index rules_follow). Rules without key, `until` or window
   * come back exactly as before (no `follow`), so their runs and histories are unchanged.
   */
  async enabledForEvent(accountId: string, eventName: string): Promise<MatchedRule[]> {
    const rows = await this.repo
      .createQueryBuilder('r')
      .select(['r.id', 'r.name', 'r.version', 'r.delay', 'r.trigger', 'r.sendWindow', 'r.seq'])
      .where('r.account_id = :accountId AND r.enabled', { accountId })
      .andWhere(
        `(r.event_name = :eventName OR (r.trigger ? 'key' AND (r.trigger @> :updateOn::jsonb OR r.trigger @> :cancelOn::jsonb)))`,
        {
          eventName,
          updateOn: JSON.stringify({ updateOn: [eventName] }),
          cancelOn: JSON.stringify({ cancelOn: [{ eventName }] }),
        },
      )
      .orderBy('r.seq', 'ASC')
      .getMany();
    return rows.map((r) => {
      const delay = r.delay as Rule['delay'];
      const matched: MatchedRule = {
        id: r.id,
        name: r.name,
        version: r.version,
        delayMs: delayMs(delay),
        delayText: delayText(delay),
      };
      const follow = followSpec(r.trigger as Rule['trigger'], delay, r.sendWindow, eventName);
      return follow ? { ...matched, follow } : matched;
    });
  }
}

/** What the event is to a rule that follows a key, or takes an `until` delay or a window; null otherwise. */
function followSpec(
  trigger: Rule['trigger'],
  delay: Rule['delay'],
  window: object | null,
  eventName: string,
): FollowSpec | null {
  if (!('eventName' in trigger)) return null;
  const key = trigger.key ?? null;
  if (!key && !('until' in delay) && !window) return null;
  if (trigger.eventName === eventName) return { key, as: 'trigger' };
  const cancel = trigger.cancelOn?.find((c) => c.eventName === eventName);
  if (cancel) return { key, as: 'cancel', cancelConditions: cancel.conditions ?? null };
  return { key, as: 'update' };
}

function fields(body: RuleBody) {
  return {
    name: body.name,
    description: body.description ?? null,
    enabled: body.enabled,
    trigger: body.trigger,
    delay: body.delay,
    sendWindow: body.window ?? null,
    conditions: body.conditions as object,
    actions: body.actions as object[],
  };
}
