/** What one run costs Temporal: its history events by type (workflow tasks, activities, markers). */
import type { Client } from '@temporalio/client';

/** temporal.api.enums.v1.EventType values (@temporalio/proto is not a direct dependency). */
const EventType = {
  EVENT_TYPE_WORKFLOW_TASK_COMPLETED: 7,
  EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: 10,
  EVENT_TYPE_TIMER_STARTED: 17,
  EVENT_TYPE_MARKER_RECORDED: 25,
  EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: 29,
} as const;

export interface HistoryCost {
  events: number;
  workflowTasks: number;
  activities: number;
  localActivities: number;
  timers: number;
  childStarts: number;
}

export async function historyCost(client: Client, workflowId: string): Promise<HistoryCost> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (t: number) => events.filter((e) => Number(e.eventType) === t).length;
  return {
    events: events.length,
    workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    activities: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    localActivities: count(EventType.EVENT_TYPE_MARKER_RECORDED),
    timers: count(EventType.EVENT_TYPE_TIMER_STARTED),
    childStarts: count(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
  };
}

export function addCosts(a: HistoryCost, b: HistoryCost): HistoryCost {
  return {
    events: a.events + b.events,
    workflowTasks: a.workflowTasks + b.workflowTasks,
    activities: a.activities + b.activities,
    localActivities: a.localActivities + b.localActivities,
    timers: a.timers + b.timers,
    childStarts: a.childStarts + b.childStarts,
  };
}
