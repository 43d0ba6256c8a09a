/**
 * Names shared by the API (client), the worker and the workflows. No Node imports: workflows load this.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  AccountId: defineSearchAttributeKey('AccountId', SearchAttributeType.KEYWORD),
  RuleId: defineSearchAttributeKey('RuleId', SearchAttributeType.KEYWORD),
  EventName: defineSearchAttributeKey('EventName', SearchAttributeType.KEYWORD),
  EventId: defineSearchAttributeKey('EventId', SearchAttributeType.KEYWORD),
  /** The key value of a keyed rule's run (`trigger.key`): every run for one job. */
  EntityKey: defineSearchAttributeKey('EntityKey', SearchAttributeType.KEYWORD),
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
  /**
   * A keyed rule's one run per key value: `~` never appears in rule or event ids, so this cannot meet
   * a per-event id. Keys outside the event-id alphabet (or long) are named by a hash (see keyIdPart).
   */
  keyedRun: (ruleId: string, keyPart: string) => `run-${ruleId}~${keyPart}`,
};

/** The signal keyed runs receive for later events with their key (a FollowMessage). */
export const FOLLOW_SIGNAL = 'follow';

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
