/**
 * GET /executions/stats: runs per rule and outcome, from visibility COUNT queries only (never a scan of
 * histories). Temporal's visibility groups by ExecutionStatus alone (`GROUP BY Outcome` is refused), so
 * each (rule, outcome) is a count of its own. To stay bounded: rules come a page at a time (`limit`,
 * `cursor`), and a rule is counted per outcome only when one count says it has runs in the range, so a
 * page costs 6 totals + one count per rule + 6 per rule that ran, 8 at a time.
 */
import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { MoreThan } from 'typeorm';
import { RuleEntity } from '../../db/entities';
import { RUN_OUTCOMES, type RunOutcomeName } from '../../shared/outcomes';
import { localParts, localToInstant } from '../../shared/send-time';
import { quote, type DailyStats, type DailyStatsQuery, type Stats, type StatsQuery } from './schemas';

const CONCURRENCY = 8;
type Counts = Record<RunOutcomeName, number>;
const ZEROS = Object.fromEntries(RUN_OUTCOMES.map((o) => [o, 0])) as Counts;

const counter = (client: Client, accountId: string) => (clauses: string[]) =>
  client.workflow.count([`AccountId = ${quote(accountId)}`, ...clauses].join(' AND ')).then((c) => c.count);

/** One count per outcome of the runs `clauses` match. */
async function perOutcome(count: (clauses: string[]) => Promise<number>, clauses: string[]): Promise<Counts> {
  const values = await inBatches(RUN_OUTCOMES.map((o) => () => count([...clauses, `Outcome = ${quote(o)}`])));
  return Object.fromEntries(RUN_OUTCOMES.map((o, i) => [o, values[i]])) as Counts;
}

async function inBatches<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += CONCURRENCY)
    out.push(...(await Promise.all(jobs.slice(i, i + CONCURRENCY).map((j) => j()))));
  return out;
}

export async function executionStats(
  client: Client,
  db: DataSource,
  accountId: string,
  q: StatsQuery,
): Promise<Stats> {
  const range = [`StartTime >= ${quote(q.since)}`, ...(q.until ? [`StartTime < ${quote(q.until)}`] : [])];
  const page = await db.getRepository(RuleEntity).find({
    where: { accountId, ...(q.ruleId && { id: q.ruleId }), ...(q.cursor && { seq: MoreThan(q.cursor) }) },
    select: { id: true, name: true, seq: true },
    order: { seq: 'ASC' },
    take: q.limit + 1,
  });
  const rules = page.slice(0, q.limit);
  const countAll = counter(client, accountId);
  const count = (clauses: string[]) => countAll([...clauses, ...range]);
  const byOutcome = (ruleId: string | null) => perOutcome(count, ruleId ? [`RuleId = ${quote(ruleId)}`] : []);
  const total = await byOutcome(q.ruleId ?? null);
  const ran = await inBatches(rules.map((r) => () => count([`RuleId = ${quote(r.id)}`])));
  const perRule: Counts[] = [];
  for (let i = 0; i < rules.length; i++) perRule.push(ran[i] ? await byOutcome(rules[i].id) : ZEROS);
  return {
    since: q.since,
    until: q.until ?? null,
    total,
    rules: rules.map((r, i) => ({ ruleId: r.id, ruleName: r.name, counts: perRule[i] })),
    nextCursor: page.length > q.limit ? rules[rules.length - 1].seq : null,
  };
}

/** Calendar days ending today in `tz`: [date, start, end) instants, oldest first. */
export function calendarDays(now: number, days: number, tz: string) {
  const today = localParts(now, tz);
  const startOf = (offset: number) => {
    const d = new Date(Date.UTC(today.y, today.m - 1, today.d + offset));
    const date = d.toISOString().slice(0, 10);
    return { date, at: localToInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, 0, tz) };
  };
  return Array.from({ length: days }, (_, i) => {
    const from = startOf(i - days + 1);
    return { date: from.date, start: from.at, end: startOf(i - days + 2).at };
  });
}

/**
 * GET /executions/stats/daily: runs per calendar day and outcome, for the Runs page's chart. Same
 * counting as above: one count per day, then 6 per day that had runs.
 */
export async function dailyExecutionStats(
  client: Client,
  accountId: string,
  accountTimezone: string,
  q: DailyStatsQuery,
  now = Date.now(),
): Promise<DailyStats> {
  const timezone = q.timezone ?? accountTimezone;
  const count = counter(client, accountId);
  const rule = q.ruleId ? [`RuleId = ${quote(q.ruleId)}`] : [];
  const days = calendarDays(now, q.days, timezone);
  const range = (d: (typeof days)[number]) => [
    ...rule,
    `StartTime >= ${quote(new Date(d.start).toISOString())}`,
    `StartTime < ${quote(new Date(d.end).toISOString())}`,
  ];
  const ran = await inBatches(days.map((d) => () => count(range(d))));
  const counts: Counts[] = [];
  for (let i = 0; i < days.length; i++) counts.push(ran[i] ? await perOutcome(count, range(days[i])) : ZEROS);
  return {
    timezone,
    days: days.map((d, i) => ({
      date: d.date,
      start: new Date(d.start).toISOString(),
      end: new Date(d.end).toISOString(),
      counts: counts[i],
    })),
  };
}
