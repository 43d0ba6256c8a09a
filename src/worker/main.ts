/**
 * `npm run worker` (or `node dist/src/worker/main.js` in the image): runs workflows and activities
 * against DATABASE_URL and TEMPORAL_ADDRESS. Run as many as you need on the same task queue.
 *
 * SIGTERM/SIGINT: stop polling, let in-flight activities finish within SHUTDOWN_GRACE_SECONDS (then
 * they are cancelled and retried elsewhere), close the connections, exit 0. Repeated signals are ignored;
 * if activities ignore cancellation, run() fails SHUTDOWN_GRACE_SECONDS + 10 s after the signal (exit 1).
 */
import { NativeConnection } from '@temporalio/worker';
import { databaseUrl, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { createLogger, temporalLogger } from '../logger';
import { temporalConnectionOptions } from '../temporal';
import { createWorker, installRuntime } from './worker';

async function main(): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, 'worker');
  installRuntime(config, temporalLogger(log));
  const db = await openDatabase(databaseUrl(config));
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const { worker, close, workflowSource } = await createWorker({ config, db, connection });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // npm and the terminal can both deliver one Ctrl-C: repeats are ignored, the grace period bounds the wait.
    if (stopping) return;
    stopping = true;
    log.info(
      { signal, graceSeconds: config.SHUTDOWN_GRACE_SECONDS },
      'worker draining: no new tasks, finishing in-flight activities',
    );
    worker.shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (config.SMTP_URL && !config.UNSUBSCRIBE_SECRET) {
    log.warn(
      'UNSUBSCRIBE_SECRET is not set: emails go without a List-Unsubscribe link (see docs/channels.md)',
    );
  }

  log.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      namespace: config.TEMPORAL_NAMESPACE,
      metrics: config.WORKER_METRICS_PORT
        ? `http://${config.HOST}:${config.WORKER_METRICS_PORT}/metrics`
        : 'off (WORKER_METRICS_PORT=0)',
      workflowCode: workflowSource,
    },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    close();
    await connection.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
  }
  log.info('worker stopped');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Before the logger exists (bad configuration) this is the only line; make it readable.
    console.error(`worker failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
