import type { DataSource } from 'typeorm';
import { planRun } from '../services/plan';
import { RuleService } from '../services/rules';
import type { EventWorkflowInput, MatchedRule, PreparedRun, RuleRunInput } from '../shared/run-types';

export function createRuleActivities(db: DataSource) {
  const rules = new RuleService(db);
  return {
    /** The account's enabled rules for this event name (one indexed query). */
    async findRulesForEvent(
      input: Pick<EventWorkflowInput, 'accountId'> & { eventName: string },
    ): Promise<MatchedRule[]> {
      return rules.enabledForEvent(input.accountId, input.eventName);
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
      if (!('eventName' in rule.trigger) || rule.trigger.eventName !== input.event.name) {
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
  };
}
