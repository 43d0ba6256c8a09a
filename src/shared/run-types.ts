/** What flows between the API, the workflows and the activities. Plain data: it is stored in history. */

export interface RunEvent {
  id: string;
  name: string;
  occurredAt: string;
  /** When the API accepted the event: delays are measured from here. */
  receivedAt: string;
  userId?: string;
  payload: Record<string, unknown>;
}

export interface EventWorkflowInput {
  accountId: string;
  event: RunEvent;
}

export interface MatchedRule {
  id: string;
  name: string;
  version: number;
  delayMs: number;
  delayText: string;
  /**
   * Only on rules with a key, an `until` delay or a window (absent otherwise, so other runs' inputs
   * and histories are unchanged): their runs plan the send time with planSend and follow the key.
   */
  follow?: FollowSpec;
}

export interface FollowSpec {
  /** The correlation key's path; null for an `until` or windowed rule without one. */
  key: { fact: string; path: string } | null;
  /** What this event is to the rule: its trigger, an updateOn or a cancelOn event. */
  as: 'trigger' | 'update' | 'cancel';
  /** For `cancel`: the matching cancelOn entry's conditions, evaluated on the event. */
  cancelConditions?: unknown;
}

/** The signal a keyed run gets for each later event with its key. */
export interface FollowMessage {
  as: 'trigger' | 'update' | 'cancel';
  event: RunEvent;
}

/** The planSend local activity's answer: when a keyed or timed run sends, recorded in history. */
export type SendPlan =
  | { status: 'skip'; reason: string }
  | { status: 'stale'; reason: string }
  | {
      status: 'planned';
      sendAt: string;
      dueAt: string;
      basis: string;
      window: { opensAt: string; timezone: string } | null;
      /** Set when this plan replaces another: the old send time and the event that moved it. */
      rescheduled: { from: string; byEvent: string } | null;
      text: string;
    };

/** A rule run the startRuleRuns activity started; `runId` is null when an earlier attempt had started it. */
export interface StartedRuleRun {
  rule: MatchedRule;
  workflowId: string;
  runId: string | null;
  /** Keyed rules only: what the event did to the (rule, key) run. */
  action?: string;
}

export interface EventWorkflowResult {
  eventId: string;
  matchedRules: { ruleId: string; ruleName: string; workflowId: string; action?: string }[];
}

export interface RuleRunInput {
  accountId: string;
  rule: MatchedRule;
  event: RunEvent;
  /** Set on a retry: the failed run this one repeats. */
  retryOf?: string;
}

/**
 * `userId`: set when the recipient is the event user's own phone or email, so the delivery checks
 * that user's channel preference. `transactional`: the email skips List-Unsubscribe and the
 * suppression check (receipts, password-like messages).
 */
export type RenderedAction =
  | { index: number; type: 'sms'; to: string; body: string; userId?: string }
  | {
      index: number;
      type: 'email';
      to: string;
      subject: string;
      text?: string;
      html?: string;
      userId?: string;
      transactional?: boolean;
    }
  | { index: number; type: 'webhook'; url: string; method: 'POST' | 'PUT' | 'PATCH'; payload: unknown };

export interface UnrenderableAction {
  index: number;
  type: 'sms' | 'email' | 'webhook';
  error: string;
}

export interface ConditionResult {
  fact: string;
  path: string | null;
  operator: string;
  value: unknown;
  factValue: unknown;
  result: boolean | null;
}

export type PreparedRun =
  | { status: 'skipped'; reason: string }
  | {
      status: 'ready';
      ruleVersion: number;
      ruleName: string;
      matched: boolean;
      conditions: ConditionResult[];
      actions: (RenderedAction | UnrenderableAction)[];
      userFound: boolean | null;
    };

/** What a delivery activity gets besides the message. */
export interface DeliveryContext {
  accountId: string;
  workflowId: string;
  ruleId: string;
  actionIndex: number;
  idempotencyKey: string;
}

export interface DeliveryResult {
  providerId: string | null;
  /** outbox when the channel is not configured; suppressed when nothing was sent (see `reason`). */
  via: 'provider' | 'outbox' | 'ledger' | 'suppressed';
  /** Why a suppressed delivery was not sent. */
  reason?: string;
  status?: number;
  /** Which attempt of the activity delivered it. */
  attempts?: number;
}

export type RunOutcome = 'sent' | 'conditions_not_met' | 'skipped' | 'failed' | 'cancelled';

export interface ActionOutcome {
  index: number;
  type: string;
  /** suppressed: the recipient opted out (suppression list or user preference); nothing was sent. */
  outcome: 'sent' | 'failed' | 'suppressed';
  attempts: number;
  providerId: string | null;
  error?: string;
  /** Why it was suppressed. */
  reason?: string;
}

export interface RuleRunResult {
  outcome: RunOutcome;
  ruleId: string;
  ruleVersion: number | null;
  reason?: string;
  actions: ActionOutcome[];
}

export const isRendered = (a: RenderedAction | UnrenderableAction): a is RenderedAction => !('error' in a);

/** A scheduled rule's tick: the schedule starts it with accountId and ruleId; continue-as-new carries state. */
export interface TickInput {
  accountId: string;
  ruleId: string;
  state?: TickState;
}

export interface TickState {
  /** The tick's own time, for the `event` fact; fixed at the first run of the tick. */
  startedAt: string;
  afterSeq: string | null;
  delayDone: boolean;
  checked: number;
  matched: number;
  delivered: number;
  failed: number;
  /** Users whose delivery failed (the first 100), for the execution log. */
  failures: { userId: string; action: number; error: string }[];
}

export type TickPage =
  | { status: 'skipped'; reason: string }
  | {
      status: 'ready';
      ruleVersion: number;
      delayMs: number;
      delayText: string;
      checked: number;
      nextAfterSeq: string | null;
      matches: { userId: string; actions: (RenderedAction | UnrenderableAction)[] }[];
      /** Only for a rule with a send window: when the tick delivers (its time + delay, in the window). */
      sendAt?: string;
      windowText?: string;
    };

export interface TickResult {
  outcome: 'completed' | 'skipped';
  ruleId: string;
  ruleVersion: number | null;
  reason?: string;
  checked: number;
  matched: number;
  delivered: number;
  failed: number;
  failures: TickState['failures'];
}
