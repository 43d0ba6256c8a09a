/**
 * One CRM event: find the account's enabled rules for it and start one rule-run workflow per rule.
 * The runs outlive this workflow (ABANDON), so each shows as its own row in the UI and in
 * `temporal workflow list --query "RuleId='…'"`.
 */
import { ParentClosePolicy, proxyLocalActivities, setCurrentDetails, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { SEARCH_ATTRIBUTES, workflowIds } from '../shared/constants';
import type { EventWorkflowInput, EventWorkflowResult } from '../shared/run-types';
import { ruleRunWorkflow } from './rule-run';

// A short indexed read: a local activity saves a task round trip per event.
const { findRulesForEvent } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '10s' },
});

export async function eventWorkflow(input: EventWorkflowInput): Promise<EventWorkflowResult> {
  const { accountId, event } = input;
  const rules = await findRulesForEvent({ accountId, eventName: event.name });
  const matchedRules = await Promise.all(
    rules.map(async (rule) => {
      const workflowId = workflowIds.ruleRun(rule.id, event.id);
      await startChild(ruleRunWorkflow, {
        workflowId,
        args: [{ accountId, rule, event }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.AccountId, value: accountId },
          { key: SEARCH_ATTRIBUTES.RuleId, value: rule.id },
          { key: SEARCH_ATTRIBUTES.EventName, value: event.name },
          { key: SEARCH_ATTRIBUTES.EventId, value: event.id },
        ],
        memo: { ruleName: rule.name, ruleVersion: rule.version, kind: 'rule-run' },
        staticSummary: `${rule.name} · ${event.name} ${event.id}`,
        staticDetails: `Rule **${rule.name}** (v${rule.version}, delay: ${rule.delayText}) for event \`${event.name}\` \`${event.id}\`.`,
      });
      return { ruleId: rule.id, ruleName: rule.name, workflowId };
    }),
  );
  setCurrentDetails(
    matchedRules.length
      ? `Started ${matchedRules.length} rule run(s).`
      : `No enabled rule for ${event.name}.`,
  );
  return { eventId: event.id, matchedRules };
}
