/**
 * How a rule run is started, whoever starts it (the startRuleRuns activity, or the event workflow's
 * child starts in runs recorded before it): one id, one set of search attributes, one summary.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { SEARCH_ATTRIBUTES, workflowIds } from './constants';
import { accountPriority } from './priority';
import type { MatchedRule, RuleRunInput, RunEvent } from './run-types';

export function ruleRunStart(accountId: string, rule: MatchedRule, event: RunEvent) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: SEARCH_ATTRIBUTES.AccountId, value: accountId },
    { key: SEARCH_ATTRIBUTES.RuleId, value: rule.id },
    { key: SEARCH_ATTRIBUTES.EventName, value: event.name },
    { key: SEARCH_ATTRIBUTES.EventId, value: event.id },
  ];
  return {
    workflowId: workflowIds.ruleRun(rule.id, event.id),
    args: [{ accountId, rule, event }] as [RuleRunInput],
    typedSearchAttributes,
    priority: accountPriority(accountId),
    memo: { ruleName: rule.name, ruleVersion: rule.version, kind: 'rule-run' },
    staticSummary: `${rule.name} · ${event.name} ${event.id}`,
    staticDetails: `Rule **${rule.name}** (v${rule.version}, delay: ${rule.delayText}) for event \`${event.name}\` \`${event.id}\`.`,
  };
}
