/**
 * A run's timeline as the API decoded it from the workflow history (src/services/executions/timeline.ts):
 * one list item per entry, every entry type in words (each condition with its fact value, each attempt
 * with its error).
 */
import type { ReactNode } from 'react';
import { Link } from 'wouter';
import type { TimelineEntry } from '../api/types';
import { duration, show, when } from '../format';
import { OutcomeBadge } from './OutcomeBadge';

type Of<T extends TimelineEntry['type']> = Extract<TimelineEntry, { type: T }>;
const runLink = (id: string) => <Link href={`/runs/${encodeURIComponent(id)}`}>{id}</Link>;

function Attempt({ e }: { e: Of<'action_attempt'> }) {
  return (
    <>
      Action {e.actionIndex + 1} ({e.actionType}) attempt {e.attempt}: <OutcomeBadge outcome={e.outcome} />
      {e.summary && <> — {e.summary}</>}
      {e.via && <> via {e.via}</>}
      {e.providerId && <> · id {e.providerId}</>}
      {e.reason && <div>Reason: {e.reason}</div>}
      {e.error && (
        <div className="error">
          Error: {e.error}
          {e.status !== null && <> (status {e.status})</>}
          {e.errorCode !== null && <> code {String(e.errorCode)}</>}
          {e.errorType && <> [{e.errorType}]</>}
        </div>
      )}
      {e.responseBody && (
        <details>
          <summary>Provider response</summary>
          <pre>{e.responseBody}</pre>
        </details>
      )}
      {e.nextAttemptAt && <div>Next attempt {when(e.nextAttemptAt)}</div>}
    </>
  );
}

function describe(e: TimelineEntry): ReactNode {
  switch (e.type) {
    case 'event_received':
      return (
        <>
          Event received: {e.eventName} {e.eventId}
          {e.userId && <> for user {e.userId}</>}
          {e.occurredAt && <> (occurred {when(e.occurredAt)})</>}
        </>
      );
    case 'rule_matched':
      return (
        <>
          Rule matched: {e.ruleName} (version {e.ruleVersion}, {e.delay})
          {e.retryOf && <> — retry of {runLink(e.retryOf)}</>}
        </>
      );
    case 'rules_matched':
      return (
        <>
          Rules matched:{' '}
          {e.rules.length
            ? e.rules.map((r) => `${r.ruleName} v${r.ruleVersion} (${r.delay})`).join(', ')
            : 'none'}
          {e.error && <div className="error">Error: {e.error}</div>}
        </>
      );
    case 'rule_run_started':
      return (
        <>
          Rule run {e.action ?? 'started'}: {e.ruleName ?? e.ruleId ?? ''} {runLink(e.workflowId)}
          {e.error && <div className="error">Error: {e.error}</div>}
        </>
      );
    case 'delay_started':
      return (
        <>
          Wait started: {e.delay} ({duration(e.remainingMs)} left), planned to end {when(e.plannedEndAt)}
        </>
      );
    case 'delay_ended':
      return (
        <>
          Wait {e.cancelled ? 'cancelled' : 'ended'}: planned {when(e.plannedEndAt)}, actual{' '}
          {when(e.actualEndAt)}
          {e.lateByMs !== null && <> ({duration(e.lateByMs)} late)</>}
        </>
      );
    case 'delay_already_elapsed':
      return (
        <>
          No wait: the delay {e.delay} had already elapsed (planned end {when(e.plannedEndAt)})
        </>
      );
    case 'rule_reread':
      return (
        <>
          Rule re-read: {e.outcome === 'current' ? `version ${e.ruleVersion ?? '?'}` : 'skipped'}
          {e.versionChanged && <> (edited since the match)</>}
          {e.reason && <> — {e.reason}</>}
        </>
      );
    case 'condition':
      return (
        <>
          Condition {e.fact}
          {e.path ? e.path.slice(1) : ''} {e.operator} {show(e.value)}: fact value {show(e.factValue)} →{' '}
          {e.result === null ? 'not evaluated' : e.result ? 'true' : 'false'}
        </>
      );
    case 'conditions_evaluated':
      return (
        <>
          Conditions {e.matched ? 'matched' : 'not met'}
          {e.userFound === false && <> (the event's user was not found)</>}
        </>
      );
    case 'action_attempt':
      return <Attempt e={e} />;
    case 'activity':
      return (
        <>
          {e.activityType} attempt {e.attempt}: {e.outcome}
          {e.summary && <> — {e.summary}</>}
          {e.error && <div className="error">Error: {e.error}</div>}
        </>
      );
    case 'cancel_requested':
      return (
        <>
          Cancel requested{e.identity && <> by {e.identity}</>}
          {e.reason && <>: {e.reason}</>}
        </>
      );
    case 'send_time_computed':
      return (
        <>
          Send time: {when(e.sendAt)} (due {when(e.dueAt)}, from {e.basis})
        </>
      );
    case 'rescheduled':
      return (
        <>
          Rescheduled by {e.byEvent}: {when(e.from)} → {when(e.to)}
        </>
      );
    case 'stale_update_ignored':
      return <>Older event ignored: {e.reason}</>;
    case 'window_wait':
      return (
        <>
          Outside the send window: waiting until {when(e.until)} ({e.timezone})
        </>
      );
    case 'send_time_skipped':
      return <>Send time skipped: {e.reason}</>;
    case 'follow_event':
      return (
        <>
          Later event ({e.as}): {e.eventName} {e.eventId}
        </>
      );
    case 'outcome':
      return (
        <>
          Outcome: <OutcomeBadge outcome={e.outcome} status={e.status} />
          {e.message && <> — {e.message}</>}
        </>
      );
    default: {
      const unknown: { type: string } = e;
      return <>{unknown.type}</>;
    }
  }
}

export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (!entries.length) return <p className="empty">Nothing recorded yet.</p>;
  return (
    <ol className="timeline">
      {entries.map((e, i) => (
        <li key={i} className={`tl-${e.type}`}>
          <time dateTime={e.at ?? undefined}>{e.at ? when(e.at) : 'time not recorded'}</time>
          <div>{describe(e)}</div>
        </li>
      ))}
    </ol>
  );
}
