/**
 * Timeline entries for a run's activities: a delivery (sendSms/sendEmail/sendWebhook) becomes an
 * `action_attempt`, anything else an `activity`. History keeps only an activity's last attempt and the
 * failure before it; describe() adds what an activity still in flight is doing.
 */
import { NO_FAILURE, iso, int, type PendingActivity } from './history-values';
import type { FailureInfo, TimelineEntry } from './schemas';

export const SEND_ACTIVITIES = new Set(['sendSms', 'sendEmail', 'sendWebhook']);

export interface ActivityState {
  activityId: string;
  activityType: string;
  summary: string | null;
  input: unknown[];
  scheduledAt: number | null;
  startedAt: number | null;
  attempt: number;
  lastFailure: FailureInfo | null;
  cancelRequested: boolean;
}

type ActionAttempt = Extract<TimelineEntry, { type: 'action_attempt' }>;
/** The outcomes a delivery and any other activity share (completion reads differently for each). */
type AttemptOutcome = 'failed' | 'retried' | 'running' | 'backing_off' | 'timed_out' | 'cancelled';

/** An action attempt's fields that only some attempts have. */
export const ATTEMPT_BLANKS = {
  startedAt: null,
  error: null,
  errorType: null,
  status: null,
  errorCode: null,
  responseBody: null,
  providerId: null,
  via: null,
  nextAttemptAt: null,
} as const;

function actionAttempt(
  a: ActivityState,
  fields: Partial<ActionAttempt> & Pick<ActionAttempt, 'attempt' | 'outcome' | 'at'>,
): TimelineEntry {
  const ctx = (a.input[0] ?? {}) as { actionIndex?: number };
  const action = (a.input[1] ?? {}) as { type?: string };
  return {
    type: 'action_attempt',
    ...ATTEMPT_BLANKS,
    actionIndex: ctx.actionIndex ?? -1,
    actionType: action.type ?? a.activityType.replace(/^send/, '').toLowerCase(),
    activityType: a.activityType,
    summary: a.summary,
    ...fields,
  };
}

/** One attempt of any activity that did not complete (or has not yet). */
function attemptEntry(
  a: ActivityState,
  p: {
    at: string | null;
    attempt: number;
    outcome: AttemptOutcome;
    startedAt?: string | null;
    failure?: FailureInfo | null;
    nextAttemptAt?: string | null;
  },
): TimelineEntry {
  const f = p.failure ?? null;
  if (!SEND_ACTIVITIES.has(a.activityType)) {
    return {
      type: 'activity',
      at: p.at,
      activityType: a.activityType,
      summary: a.summary,
      attempt: p.attempt,
      outcome: p.outcome,
      error: f?.message ?? null,
    };
  }
  return actionAttempt(a, {
    at: p.at,
    startedAt: p.startedAt ?? null,
    attempt: p.attempt,
    outcome: p.outcome,
    nextAttemptAt: p.nextAttemptAt ?? null,
    error: f?.message ?? null,
    errorType: f?.type ?? null,
    status: f?.status ?? null,
    errorCode: f?.code ?? null,
    responseBody: f?.responseBody ?? null,
  });
}

/** The attempt before the last one, known only through the last one's `lastFailure`. */
export function previousAttempt(a: ActivityState): TimelineEntry[] {
  if (!a.lastFailure || a.attempt < 2) return [];
  return [attemptEntry(a, { at: null, attempt: a.attempt - 1, outcome: 'retried', failure: a.lastFailure })];
}

/** A completed activity other than prepareRun (whose result the caller reads). */
export function completedEntry(a: ActivityState, result: unknown, at: string | null): TimelineEntry {
  if (!SEND_ACTIVITIES.has(a.activityType)) {
    return {
      type: 'activity',
      at,
      activityType: a.activityType,
      summary: a.summary,
      attempt: a.attempt,
      outcome: 'completed',
      error: null,
    };
  }
  const r = (result ?? {}) as {
    providerId?: string | null;
    via?: string;
    status?: number;
    reason?: string;
  };
  const suppressed = r.via === 'suppressed';
  return actionAttempt(a, {
    at,
    startedAt: iso(a.startedAt),
    attempt: a.attempt,
    outcome: suppressed ? 'suppressed' : 'sent',
    status: int(r.status),
    providerId: r.providerId ?? null,
    via: r.via ?? null,
    ...(suppressed && { reason: r.reason ?? 'recipient opted out' }),
  });
}

/** An activity that failed, timed out or was cancelled, after the attempt before it. */
export function endedEntries(
  a: ActivityState,
  outcome: 'failed' | 'timed_out' | 'cancelled',
  failure: FailureInfo | null,
  at: string | null,
): TimelineEntry[] {
  // A cancelled delivery says so even when the cancellation carried no failure.
  const f =
    failure ??
    (outcome === 'cancelled' && SEND_ACTIVITIES.has(a.activityType)
      ? { ...NO_FAILURE, message: 'cancelled' }
      : null);
  return [
    ...previousAttempt(a),
    attemptEntry(a, { at, startedAt: iso(a.startedAt), attempt: a.attempt, outcome, failure: f }),
  ];
}

/** Activities a closed run left behind (cancelled or terminated while one was retrying). */
export function abandonedEntries(a: ActivityState, at: string | null): TimelineEntry[] {
  const message = a.cancelRequested
    ? 'cancelled with the run'
    : 'the run ended before this activity finished';
  return [
    ...previousAttempt(a),
    attemptEntry(a, {
      at,
      startedAt: iso(a.startedAt),
      attempt: a.attempt,
      outcome: 'cancelled',
      failure: { ...NO_FAILURE, message },
    }),
  ];
}

/** Activities still in flight: history has only their scheduling; describe() knows their attempts. */
export function pendingEntries(a: ActivityState, p: PendingActivity | undefined): TimelineEntry[] {
  const attempt = p?.attempt ?? a.attempt;
  const waiting = p?.state === 'scheduled' && attempt > 1;
  const out: TimelineEntry[] = [];
  if (p?.lastFailure && attempt > 1) {
    const [entry] = previousAttempt({ ...a, attempt, lastFailure: p.lastFailure });
    if (entry) out.push({ ...entry, at: p.lastAttemptCompletedAt });
  }
  out.push(
    attemptEntry(a, {
      at: p?.lastStartedAt ?? iso(a.scheduledAt),
      startedAt: p?.lastStartedAt ?? null,
      attempt,
      outcome: waiting ? 'backing_off' : 'running',
      nextAttemptAt: waiting ? (p?.nextAttemptAt ?? null) : null,
    }),
  );
  return out;
}
