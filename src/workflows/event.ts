/**
 * One CRM event: find the account's enabled rules for it and start one rule-run workflow per rule.
 * Each run is a workflow of its own, so it shows as its own row in the UI and in
 * `temporal workflow list --query "RuleId='…'"`.
 */
import {
  ParentClosePolicy,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  startChild,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ruleRunStart } from '../shared/rule-runs';
import type { EventWorkflowInput, EventWorkflowResult, MatchedRule } from '../shared/run-types';
import { ruleRunWorkflow } from './rule-run';

/** Runs recorded before this patch started their rule runs as child workflows. */
export const RUNS_STARTED_BY_ACTIVITY = 'rule-runs-started-by-activity';

// Short reads and starts: local activities run inside the event's one workflow task.
const { findRulesForEvent, startRuleRuns } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '10s' },
});

export async function eventWorkflow(input: EventWorkflowInput): Promise<EventWorkflowResult> {
  const { accountId, event } = input;
  const rules = await findRulesForEvent({ accountId, eventName: event.name });
  // The patch is checked only when there is something to start: an event that matches nothing (most
  // of them) carries no patch marker.
  const matchedRules = !rules.length
    ? []
    : patched(RUNS_STARTED_BY_ACTIVITY)
      ? (await startRuleRuns(input, rules)).map(({ rule, workflowId, action }) => ({
          ruleId: rule.id,
          ruleName: rule.name,
          workflowId,
          // Keyed rules: what this event did to the job's run (signalled, cancel sent, nothing pending).
          ...(action && { action }),
        }))
      : await startChildRuns(input, rules);
  setCurrentDetails(
    matchedRules.length
      ? `Started ${matchedRules.length} rule run(s).`
      : `No enabled rule for ${event.name}.`,
  );
  return { eventId: event.id, matchedRules };
}

/** Child starts cost a workflow task each; kept for runs recorded before the patch. */
function startChildRuns({ accountId, event }: EventWorkflowInput, rules: MatchedRule[]) {
  return Promise.all(
    rules.map(async (rule) => {
      const start = ruleRunStart(accountId, rule, event);
      await startChild(ruleRunWorkflow, { ...start, parentClosePolicy: ParentClosePolicy.ABANDON });
      return { ruleId: rule.id, ruleName: rule.name, workflowId: start.workflowId };
    }),
  );
}
