/**
 * A rule with a `schedule` trigger owns one Temporal Schedule (`schedule-<ruleId>`) that starts a
 * scheduledRuleWorkflow tick on its cron, in its time zone. Every rule write goes through `sync`,
 * so the Schedule always matches the rule: created, updated, paused when disabled, deleted with it.
 */
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Config } from '../config';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES, workflowIds } from '../shared/constants';
import { ApiError } from '../shared/errors';
import type { TickInput } from '../shared/run-types';
import type { Rule } from '../shared/schemas';
import type { scheduledRuleWorkflow } from '../workflows/scheduled';

/** Ticks missed while the cluster was down are caught up within this window, then skipped. */
export const CATCHUP_WINDOW = '10 minutes';

export class RuleSchedules {
  constructor(
    private readonly temporal: Client,
    private readonly config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>,
  ) {}

  private action(
    accountId: string,
    rule: Rule,
  ): ScheduleOptionsStartWorkflowAction<typeof scheduledRuleWorkflow> {
    const args: [TickInput] = [{ accountId, ruleId: rule.id }];
    return {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPES.scheduledTick,
      // Temporal appends the tick's time, so each tick has an id of its own.
      workflowId: `tick-${rule.id}`,
      taskQueue: this.config.TEMPORAL_TASK_QUEUE,
      args,
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.AccountId, value: accountId },
        { key: SEARCH_ATTRIBUTES.RuleId, value: rule.id },
        { key: SEARCH_ATTRIBUTES.EventName, value: 'schedule.tick' },
      ],
      memo: { kind: 'scheduled-tick', ruleName: rule.name, ruleVersion: rule.version },
      staticSummary: `${rule.name} · scheduled tick`,
    };
  }

  /** Brings the rule's Schedule in line with the rule (or removes it when the rule is not scheduled). */
  async sync(accountId: string, rule: Rule): Promise<void> {
    const handle = this.temporal.schedule.getHandle(workflowIds.schedule(rule.id));
    if (!('schedule' in rule.trigger)) {
      await this.remove(rule.id);
      return;
    }
    const spec = { cronExpressions: [rule.trigger.schedule.cron], timezone: rule.trigger.schedule.timezone };
    const note = `rule version ${rule.version}`;
    try {
      await handle.update((prev) => ({
        ...prev,
        spec,
        action: this.action(accountId, rule),
        state: { ...prev.state, paused: !rule.enabled, note },
      }));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await this.temporal.schedule.create({
        scheduleId: workflowIds.schedule(rule.id),
        spec,
        action: this.action(accountId, rule),
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW },
        state: { paused: !rule.enabled, note },
        memo: { accountId, ruleId: rule.id },
      });
    }
  }

  async remove(ruleId: string): Promise<void> {
    await this.temporal.schedule
      .getHandle(workflowIds.schedule(ruleId))
      .delete()
      .catch((err) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  }

  /** `POST /rules/:id/run-now`: one tick now, through the Schedule (so overlap policy applies). */
  async runNow(rule: Rule): Promise<void> {
    if (!('schedule' in rule.trigger)) {
      throw new ApiError(409, 'not_scheduled', 'run-now is for rules with a schedule trigger');
    }
    if (!rule.enabled) throw new ApiError(409, 'rule_disabled', 'the rule is disabled');
    await this.temporal.schedule
      .getHandle(workflowIds.schedule(rule.id))
      .trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  }
}
