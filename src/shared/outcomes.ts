/**
 * What a rule run (or a scheduled tick) came to, in one word: the `Outcome` search attribute a run
 * upserts when it ends, and what GET /executions derives from the result for runs recorded before.
 * Pure code: the workflows load it.
 */
export const RUN_OUTCOMES = [
  'sent',
  'conditions_not_met',
  'skipped',
  'failed',
  'cancelled',
  'suppressed',
] as const;
export type RunOutcomeName = (typeof RUN_OUTCOMES)[number];

/** The parts of a RuleRunResult or TickResult the outcome depends on. */
export interface OutcomeSource {
  outcome: string;
  actions?: readonly { outcome: string }[];
  delivered?: number;
  failed?: number;
}

export function outcomeOfResult(r: OutcomeSource): RunOutcomeName {
  if (r.actions?.length && r.actions.every((a) => a.outcome === 'suppressed')) return 'suppressed';
  if ((RUN_OUTCOMES as readonly string[]).includes(r.outcome)) return r.outcome as RunOutcomeName;
  // A scheduled tick ends `completed` over its users: what it did to them is the outcome.
  if (r.outcome === 'completed') {
    if ((r.failed ?? 0) > 0) return 'failed';
    return (r.delivered ?? 0) > 0 ? 'sent' : 'conditions_not_met';
  }
  return 'failed';
}
