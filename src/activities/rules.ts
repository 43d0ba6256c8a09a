import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { planRun } from '../services/plan';
import { RuleService } from '../services/rules';
import { AccountEntity, UserEntity } from '../db/entities';
import type {
  EventWorkflowInput,
  MatchedRule,
  PreparedRun,
  RuleRunInput,
  StartedRuleRun,
  TickPage,
} from '../shared/run-types';
import { delayText } from '../services/rules';
import { WORKFLOW_TYPES } from '../shared/constants';
import { ruleRunStart } from '../shared/rule-runs';
import { delayMs, type Rule } from '../shared/schemas';
import { nextWindowOpening } from '../shared/send-time';
import { createFollowActivities } from './follow';

/** `temporal` is the worker's own client: on its connection, starts can be eager (see startRuleRuns). */
export function createRuleActivities(db: DataSource, temporal: Client) {
  const rules = new RuleService(db);
  const follow = createFollowActivities(db, temporal);
  return {
    planSend: follow.planSend,

    /** The account's enabled rules for this event name (one indexed query). */
    async findRulesForEvent(
      input: Pick<EventWorkflowInput, 'accountId'> & { eventName: string },
    ): Promise<MatchedRule[]> {
      return rules.enabledForEvent(input.accountId, input.eventName);
    },

    /**
     * Starts one rule run per matched rule on this worker's task queue. A run's id is (rule, event), so
     * an attempt that finds its run already started (a retry after a crash) reuses it: each pair runs
     * once. Eager start hands the run's first workflow task straight to this worker.
     */
    async startRuleRuns(
      { accountId, event }: EventWorkflowInput,
      matched: MatchedRule[],
    ): Promise<StartedRuleRun[]> {
      const { taskQueue } = Context.current().info;
      return Promise.all(
        matched.map(async (rule) => {
          if (rule.follow) return follow.followEvent(accountId, rule, event, taskQueue);
          const start = ruleRunStart(accountId, rule, event);
          try {
            const handle = await temporal.workflow.start(WORKFLOW_TYPES.ruleRun, {
              ...start,
              taskQueue,
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
              requestEagerStart: true,
            });
            return { rule, workflowId: start.workflowId, runId: handle.firstExecutionRunId };
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            return { rule, workflowId: start.workflowId, runId: null };
          }
        }),
      );
    },

    /**
     * Re-reads the rule when its delay ends, loads the user, evaluates the conditions and renders the
     * actions. Evaluation runs here rather than in workflow code so that its answer is recorded in
     * history: a json-rules-engine upgrade can then never change how a run in flight replays.
     */
    async prepareRun(
      input: Pick<RuleRunInput, 'accountId' | 'event'> & { ruleId: string },
    ): Promise<PreparedRun> {
      const rule = await rules.find(input.accountId, input.ruleId);
      if (!rule) return { status: 'skipped', reason: 'rule was deleted during the delay' };
      if (!rule.enabled) return { status: 'skipped', reason: `rule was disabled (version ${rule.version})` };
      // A keyed run may send for its latest updateOn event (job.rescheduled): that one counts too.
      if (
        !('eventName' in rule.trigger) ||
        (rule.trigger.eventName !== input.event.name && !rule.trigger.updateOn?.includes(input.event.name))
      ) {
        return {
          status: 'skipped',
          reason: `rule no longer triggers on ${input.event.name} (version ${rule.version})`,
        };
      }
      const plan = await planRun(db, input.accountId, rule, input.event);
      return {
        status: 'ready',
        ruleVersion: rule.version,
        ruleName: rule.name,
        matched: plan.matched,
        conditions: plan.conditions,
        // Rendered content goes into history; keep it only when it will be sent.
        actions: plan.matched ? plan.actions : [],
        userFound: plan.userFound,
      };
    },

    /**
     * One page of a scheduled rule's tick: re-reads the rule, then evaluates it for each user of the
     * page (the `user` fact) and renders the actions of the users that match.
     */
    async prepareTickPage(input: {
      accountId: string;
      ruleId: string;
      tickId: string;
      tickAt: string;
      afterSeq: string | null;
      pageSize: number;
    }): Promise<TickPage> {
      const rule = await rules.find(input.accountId, input.ruleId);
      if (!rule) return { status: 'skipped', reason: 'rule was deleted' };
      if (!rule.enabled) return { status: 'skipped', reason: `rule is disabled (version ${rule.version})` };
      if (!('schedule' in rule.trigger))
        return { status: 'skipped', reason: 'rule no longer runs on a schedule' };
      const qb = db
        .getRepository(UserEntity)
        .createQueryBuilder('u')
        .where('u.account_id = :accountId', { accountId: input.accountId })
        .orderBy('u.seq', 'ASC')
        .take(input.pageSize);
      if (input.afterSeq) qb.andWhere('u.seq > :after', { after: input.afterSeq });
      const users = await qb.getMany();
      const event = { id: input.tickId, name: 'schedule.tick', occurredAt: input.tickAt, payload: {} };
      const matches: Extract<TickPage, { status: 'ready' }>['matches'] = [];
      for (const user of users) {
        const plan = await planRun(db, input.accountId, rule, { ...event, userId: user.id }, user);
        if (plan.matched) matches.push({ userId: user.id, actions: plan.actions });
      }
      return {
        status: 'ready',
        ruleVersion: rule.version,
        delayMs: delayMs(rule.delay),
        delayText: delayText(rule.delay),
        checked: users.length,
        nextAfterSeq: users.length === input.pageSize ? users[users.length - 1].seq : null,
        matches,
        ...(rule.window && (await tickWindow(db, rule, input))),
      };
    },
  };
}

/**
 * A scheduled tick's send time in the rule's window: its time plus the delay, moved to the next
 * opening. The tick has no one user, so `user` means the account's timezone. Intl runs here, in the
 * activity, so the answer is recorded (see shared/send-time.ts).
 */
async function tickWindow(db: DataSource, rule: Rule, input: { accountId: string; tickAt: string }) {
  const w = rule.window!;
  const tz =
    w.timezone === 'user'
      ? ((await db.getRepository(AccountEntity).findOneBy({ id: input.accountId }))?.timezone ?? 'UTC')
      : w.timezone;
  const due = Date.parse(input.tickAt) + delayMs(rule.delay);
  const sendAt = new Date(nextWindowOpening(due, w, tz)).toISOString();
  return { sendAt, windowText: `window ${w.start}-${w.end} ${w.days.join(',')} (${tz})` };
}
