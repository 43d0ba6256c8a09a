/**
 * The raw-Temporal baseline: the least a Temporal application can do per event, on the same server
 * and worker settings as the product. One workflow, one activity that POSTs to the receiver.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './activities';

const { post } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s' },
});

export async function baselineWorkflow(url: string, id: string): Promise<void> {
  await post(url, id);
}
