/**
 * Fair sharing between accounts: every workflow carries its account as its Temporal fairness key (Task
 * Queue Fairness), so matching dispatches workflow and activity tasks round-robin across accounts and one
 * account's backlog cannot starve another's. Activities and child workflows inherit the priority of the
 * workflow that schedules them, so only starts set it. Needs `matching.enableFairness` on the cluster
 * (docs/deploying.md).
 */
import type { Priority } from '@temporalio/common';

export const accountPriority = (accountId: string): Priority => ({ fairnessKey: accountId });
