/**
 * The "next build" of the cluster's deploy drill (bench/lib/cluster-drills.ts): the product's
 * workflows with one change behind patched(), as a real workflow change must ship. Runs started on the
 * old build and sleeping when the new one takes over replay without the marker and keep the old path;
 * runs started afterwards take the new one (a memo naming the build).
 */
import { patched, upsertMemo } from '@temporalio/workflow';
import type { RuleRunInput, RuleRunResult } from '../../src/shared/run-types';
import { ruleRunWorkflow as current } from '../../src/workflows/rule-run';

export { eventWorkflow, scheduledRuleWorkflow } from '../../src/workflows';

export const DRILL_PATCH = 'drill-deploy-v2';

export async function ruleRunWorkflow(input: RuleRunInput): Promise<RuleRunResult> {
  if (patched(DRILL_PATCH)) upsertMemo({ deployedBuild: 'v2' });
  return current(input);
}
