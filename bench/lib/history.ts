/** What one run costs Temporal: its history events by type (workflow tasks, activities, markers). */
import type { Client } from '@temporalio/client';

/** temporal.api.enums.v1.EventType values (@temporalio/proto is not a direct dependency). */
const EventType = {
  EVENT_TYPE_WORKFLOW_TASK_COMPLETED: 7,
  EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: 8,
  EVENT_TYPE_WORKFLOW_TASK_FAILED: 9,
  EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: 10,
  EVENT_TYPE_TIMER_STARTED: 17,
  EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: 29,
} as const;

export interface HistoryCost {
  events: number;
  workflowTasks: number;
  activities: number;
  localActivities: number;
  /** patched() markers, each with its TemporalChangeVersion search attribute upsert. */
  patches: number;
  timers: number;
  childStarts: number;
  /** Sticky-queue timeouts and failures: work done twice, a sign of an overloaded worker. */
  workflowTaskTimeouts: number;
  workflowTaskFailures: number;
}

export async function historyCost(client: Client, workflowId: string): Promise<HistoryCost> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (t: number) => events.filter((e) => Number(e.eventType) === t).length;
  const markers = (name: string) =>
    events.filter((e) => e.markerRecordedEventAttributes?.markerName === name).length;
  return {
    events: events.length,
    workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    activities: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    localActivities: markers('core_local_activity'),
    patches: markers('core_patch'),
    timers: count(EventType.EVENT_TYPE_TIMER_STARTED),
    childStarts: count(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
    workflowTaskTimeouts: count(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT),
    workflowTaskFailures: count(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
  };
}

export function addCosts(a: HistoryCost, b: HistoryCost): HistoryCost {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof HistoryCost)[]) out[k] = a[k] + b[k];
  return out;
}

/** The mean cost over several runs. */
export function meanCost(costs: HistoryCost[]): HistoryCost {
  const sum = costs.reduce(addCosts);
  for (const k of Object.keys(sum) as (keyof HistoryCost)[])
    sum[k] = Math.round((sum[k] / costs.length) * 100) / 100;
  return sum;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;

/** How long after its due time the server fired the run's timer (TimerFired − (TimerStarted + timeout)). */
export async function timerFiredLatenessMs(client: Client, workflowId: string): Promise<number | null> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const started = events.find((e) => Number(e.eventType) === EventType.EVENT_TYPE_TIMER_STARTED);
  const fired = events.find((e) => Number(e.eventType) === 18 /* EVENT_TYPE_TIMER_FIRED */);
  if (!started || !fired) return null;
  const due = ms(started.eventTime) + ms(started.timerStartedEventAttributes?.startToFireTimeout);
  return ms(fired.eventTime) - due;
}
