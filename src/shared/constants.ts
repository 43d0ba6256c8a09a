/**
 * Names shared by the API (client), the worker and the workflows. No Node imports: workflows load this.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  AccountId: defineSearchAttributeKey('AccountId', SearchAttributeType.KEYWORD),
  RuleId: defineSearchAttributeKey('RuleId', SearchAttributeType.KEYWORD),
  EventName: defineSearchAttributeKey('EventName', SearchAttributeType.KEYWORD),
  EventId: defineSearchAttributeKey('EventId', SearchAttributeType.KEYWORD),
  /** Upserted when a rule run or a scheduled tick ends: one of RUN_OUTCOMES. */
  Outcome: defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_NAMES = Object.keys(SEARCH_ATTRIBUTES) as (keyof typeof SEARCH_ATTRIBUTES)[];

/**
 * Readable, URL-safe workflow ids. Event ids are validated to [A-Za-z0-9._:-], so a retry's `~` puts
 * it where no event's run id can be (`run-R-order-7~retry-1` vs the event `order-7-retry-1`).
 */
export const workflowIds = {
  event: (accountId: string, eventId: string) => `event-${accountId}-${eventId}`,
  ruleRun: (ruleId: string, eventId: string) => `run-${ruleId}-${eventId}`,
  retry: (rootRunId: string, n: number) => `${rootRunId}~retry-${n}`,
  schedule: (ruleId: string) => `schedule-${ruleId}`,
};

export const WORKFLOW_TYPES = {
  event: 'eventWorkflow',
  ruleRun: 'ruleRunWorkflow',
  scheduledTick: 'scheduledRuleWorkflow',
} as const;

/** ApplicationFailure types thrown by delivery activities. */
export const FAILURE_TYPES = {
  permanent: 'PermanentDeliveryError',
  transient: 'TransientDeliveryError',
  actionsFailed: 'ActionsFailed',
} as const;
