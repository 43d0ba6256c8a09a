export { eventWorkflow } from './event';
export { ruleRunWorkflow } from './rule-run';
export { scheduledRuleWorkflow } from './scheduled';
