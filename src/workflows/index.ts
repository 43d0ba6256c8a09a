export { eventWorkflow } from './event';
export { ruleRunWorkflow } from './rule-run';
