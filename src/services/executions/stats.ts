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
import { quote, type Stats, type StatsQuery } from './schemas';

const CONCURRENCY = 8;
type Counts = Record<RunOutcomeName, number>;

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
  const count = (clauses: string[]) =>
    client.workflow
      .count([`AccountId = ${quote(accountId)}`, ...clauses, ...range].join(' AND '))
      .then((c) => c.count);
  const byOutcome = async (ruleId: string | null): Promise<Counts> => {
    const rule = ruleId ? [`RuleId = ${quote(ruleId)}`] : [];
    const values = await inBatches(RUN_OUTCOMES.map((o) => () => count([...rule, `Outcome = ${quote(o)}`])));
    return Object.fromEntries(RUN_OUTCOMES.map((o, i) => [o, values[i]])) as Counts;
  };
  const zeros = Object.fromEntries(RUN_OUTCOMES.map((o) => [o, 0])) as Counts;
  const total = await byOutcome(q.ruleId ?? null);
  const ran = await inBatches(rules.map((r) => () => count([`RuleId = ${quote(r.id)}`])));
  const perRule: Counts[] = [];
  for (let i = 0; i < rules.length; i++) perRule.push(ran[i] ? await byOutcome(rules[i].id) : zeros);
  return {
    since: q.since,
    until: q.until ?? null,
    total,
    rules: rules.map((r, i) => ({ ruleId: r.id, ruleName: r.name, counts: perRule[i] })),
    nextCursor: page.length > q.limit ? rules[rules.length - 1].seq : null,
  };
}
