import { existsSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { createActivities } from '../activities';
import type { Config } from '../config';

/** Built by `npm run build:bundle` (and the Dockerfile); without it the worker bundles at start. */
export const PREBUILT_BUNDLE = path.resolve(__dirname, '../../dist/workflow-bundle.js');

export function createMailer(config: Config) {
  if (!config.SMTP_URL) return undefined;
  const url = new URL(config.SMTP_URL);
  url.searchParams.set('pool', 'true');
  return nodemailer.createTransport(url.toString());
}

export interface WorkerDeps {
  config: Config;
  db: DataSource;
  connection: NativeConnection;
  taskQueue?: string;
  workflowBundle?: WorkerOptions['workflowBundle'];
  options?: Partial<WorkerOptions>;
}

export async function createWorker({
  config,
  db,
  connection,
  taskQueue,
  workflowBundle,
  options,
}: WorkerDeps) {
  const mailer = createMailer(config);
  const bundle =
    workflowBundle ??
    (existsSync(PREBUILT_BUNDLE) && !__filename.endsWith('.ts') ? { codePath: PREBUILT_BUNDLE } : undefined);
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({ db, config, mailer }),
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: require.resolve('../workflows') }),
    shutdownGraceTime: `${config.SHUTDOWN_GRACE_SECONDS}s`,
    ...options,
  });
  return { worker, close: () => mailer?.close() };
}
