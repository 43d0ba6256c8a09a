import type { DataSource } from 'typeorm';
import { RuleEntity, type RuleRow } from '../db/entities';
import { ApiError } from '../shared/errors';
import { newId } from '../shared/ids';
import { delayMs, type Rule, type RuleBody } from '../shared/schemas';
import type { FollowSpec, MatchedRule } from '../shared/run-types';
import { paginate, type Page, type PageQuery } from './pagination';

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

  async create(accountId: string, body: RuleBody): Promise<Rule> {
    const row = this.repo.create({ ...fields(body), id: newId('rule'), accountId, version: 1 });
    await this.repo.insert(row);
    return this.get(accountId, row.id);
  }

  async find(accountId: string, id: string): Promise<Rule | null> {
    const row = await this.repo.findOneBy({ accountId, id });
    return row ? toRule(row) : null;
  }

  async get(accountId: string, id: string): Promise<Rule> {
    const rule = await this.find(accountId, id);
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
  async replace(accountId: string, id: string, body: RuleBody, expectedVersion?: number): Promise<Rule> {
    const qb = this.repo
      .createQueryBuilder()
      .update()
      .set({ ...fields(body), version: () => 'version + 1', updatedAt: () => 'now()' })
      .where('account_id = :accountId AND id = :id', { accountId, id });
    if (expectedVersion !== undefined) qb.andWhere('version = :expectedVersion', { expectedVersion });
    const result = await qb.execute();
    if (!result.affected) {
      if (expectedVersion !== undefined && (await this.find(accountId, id))) {
        throw new ApiError(409, 'conflict', 'the rule changed while this request was applied; retry');
      }
      throw ApiError.notFound('rule');
    }
    return this.get(accountId, id);
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

  async delete(accountId: string, id: string): Promise<void> {
    const result = await this.repo.delete({ accountId, id });
    if (!result.affected) throw ApiError.notFound('rule');
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
