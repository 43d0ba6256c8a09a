/** `npm run worker`: runs workflows and activities against DATABASE_URL and TEMPORAL_ADDRESS. */
import { NativeConnection } from '@temporalio/worker';
import { databaseUrl, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { createLogger } from '../logger';
import { temporalConnectionOptions } from '../temporal';
import { createWorker } from './worker';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, 'worker');
  const db = await openDatabase(databaseUrl(config));
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const { worker, close } = await createWorker({ config, db, connection });
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE }, 'worker started');
  // Worker.run() shuts down on SIGINT/SIGTERM, finishing in-flight activities within shutdownGraceTime.
  await worker.run();
  close();
  await connection.close();
  await db.destroy();
  log.info('worker stopped');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
