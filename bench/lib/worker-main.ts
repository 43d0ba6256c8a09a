/**
 * A worker process for the benchmark and the drills. `product` mode is src/worker/main.ts with two
 * differences that production deployments also have: the workflow bundle is built beforehand
 * (BENCH_WORKFLOW_BUNDLE) instead of by webpack at start, and WorkerOptions overrides can be passed as
 * JSON (BENCH_WORKER_OPTIONS) to createWorker. `baseline` mode runs the raw-Temporal baseline.
 *
 *   node --import tsx bench/lib/worker-main.ts product|baseline
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { dataConverterFor } from '../../src/codec';
import { databaseUrl, loadConfig } from '../../src/config';
import { openDatabase } from '../../src/db/data-source';
import { createLogger, temporalLogger } from '../../src/logger';
import { temporalConnectionOptions } from '../../src/temporal';
import { createWorker, installRuntime } from '../../src/worker/worker';
import { baselineActivities } from '../baseline/activities';

async function main() {
  const mode = process.argv[2] ?? 'product';
  const config = loadConfig();
  installRuntime(config, temporalLogger(createLogger(config.LOG_LEVEL, 'worker')));
  const options = JSON.parse(process.env.BENCH_WORKER_OPTIONS || '{}') as Partial<WorkerOptions>;
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  let worker: Worker;
  let cleanup = async () => undefined as void;
  if (mode === 'baseline') {
    worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities: baselineActivities,
      workflowBundle: { codePath: process.env.BENCH_BASELINE_BUNDLE! },
      // The bench's client encodes with the stack's codec (unless --codec off): the baseline reads the same.
      dataConverter: dataConverterFor(config),
      ...options,
    });
  } else {
    const db = await openDatabase(databaseUrl(config));
    const bundle = process.env.BENCH_WORKFLOW_BUNDLE;
    const created = await createWorker({
      config,
      db,
      connection,
      ...(bundle && { workflowBundle: { codePath: bundle } }),
      options,
    });
    worker = created.worker;
    cleanup = async () => {
      created.close();
      await db.destroy();
    };
  }
  // installRuntime leaves signals to the process, as src/worker/main.ts does.
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(1);
    stopping = true;
    worker.shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.stdout.write(`worker ready pid=${process.pid} mode=${mode}\n`);
  await worker.run();
  await cleanup();
  await connection.close();
  process.stdout.write('worker stopped\n');
  process.exit(0);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
