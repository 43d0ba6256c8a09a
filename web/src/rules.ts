/** Rules in the web app: reading them all, describing them in a line, and a new rule's defaults. */
import { api, unwrap, type Schemas } from './api/client';

export type Rule = Schemas['Rule'];
export type RuleInput = Schemas['RuleInput'];
export type Warning = Schemas['Warning'];

/** Every rule of the account, page by page (the API gives at most 200 a page). */
export async function fetchAllRules(): Promise<Rule[]> {
  const out: Rule[] = [];
  let cursor: string | undefined;
  do {
    const page = await unwrap(api.GET('/rules', { params: { query: { limit: 200, cursor } } }));
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

export function describeTrigger(t: Rule['trigger']): string {
  if ('schedule' in t) return `schedule ${t.schedule.cron} (${t.schedule.timezone})`;
  return t.key ? `${t.eventName} by ${t.key.fact}${t.key.path.slice(1)}` : t.eventName;
}

const plural = (n: number, unit: string) => `${n} ${n === 1 ? unit.replace(/s$/, '') : unit}`;

export function describeDelay(d: Rule['delay']): string {
  if ('until' in d) {
    const at = `${d.until.fact}${d.until.path.slice(1)}`;
    const o = d.offset;
    if (!o || o.value === 0) return `at ${at}`;
    return `${plural(Math.abs(o.value), o.unit)} ${o.value < 0 ? 'before' : 'after'} ${at}`;
  }
  return d.value === 0 ? 'at once' : `after ${plural(d.value, d.unit)}`;
}

/** The fields a rule is written with (what PUT takes), from a stored rule. */
export function inputOf(rule: Rule): RuleInput {
  const {
    id: _id,
    version: _v,
    createdAt: _c,
    updatedAt: _u,
    ...input
  } = rule as Rule & { warnings?: unknown };
  delete (input as { warnings?: unknown }).warnings;
  return input as RuleInput;
}

export const newRule = (): RuleInput => ({
  name: '',
  enabled: true,
  trigger: { eventName: '' },
  delay: { value: 0, unit: 'minutes' },
  conditions: { all: [] },
  actions: [{ type: 'webhook', params: { url: '', method: 'POST', payload: {} } }],
});
