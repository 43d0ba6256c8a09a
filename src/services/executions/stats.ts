/**
 * GET /executions/stats: runs per rule and outcome, from visibility COUNT queries only (never a scan of
 * histories). Temporal's visibility groups by ExecutionStatus alone (`GROUP BY Outcome` is refused), so
 * each (rule, outcome) is a count of its own: 6 per rule plus 6 for the account's totals, 8 at a time.
 */
import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
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
  const rules = await db.getRepository(RuleEntity).find({
    where: { accountId, ...(q.ruleId && { id: q.ruleId }) },
    select: { id: true, name: true },
    order: { seq: 'ASC' },
  });
  // One count per (rule or the total, outcome); null is the account's total.
  const scopes = [q.ruleId ?? null, ...rules.map((r) => r.id)];
  const jobs = scopes.flatMap((ruleId) =>
    RUN_OUTCOMES.map((outcome) => () => {
      const clauses = [
        `AccountId = ${quote(accountId)}`,
        ...(ruleId ? [`RuleId = ${quote(ruleId)}`] : []),
        `Outcome = ${quote(outcome)}`,
        ...range,
      ];
      return client.workflow.count(clauses.join(' AND ')).then((c) => c.count);
    }),
  );
  const values = await inBatches(jobs);
  const countsAt = (scope: number) =>
    Object.fromEntries(RUN_OUTCOMES.map((o, i) => [o, values[scope * RUN_OUTCOMES.length + i]])) as Counts;
  const total = countsAt(0);
  const perRule = rules.map((_r, i) => countsAt(i + 1));
  return {
    since: q.since,
    until: q.until ?? null,
    total,
    rules: rules.map((r, i) => ({ ruleId: r.id, ruleName: r.name, counts: perRule[i] })),
  };
}
