import { existsSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Logger as TemporalLogger } from '@temporalio/common';
import {
  makeTelemetryFilterString,
  NativeConnection,
  Runtime,
  Worker,
  type ActivityInterceptorsFactory,
  type WorkerOptions,
} from '@temporalio/worker';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { createActivities } from '../activities';
import { dataConverterFor } from '../codec';
import type { Config } from '../config';
import { PREBUILT_BUNDLE, WORKFLOW_INTERCEPTOR_MODULES } from './bundle';
import {
  DELIVERY_CHANNELS,
  HISTOGRAM_BUCKETS,
  logFields,
  METRICS,
  RUN_CONTEXT_HEADER,
  runContextOf,
  type RunContext,
} from './interceptors';

/** Built by `npm run build:bundle` (and the Dockerfile); without it the worker bundles at start. */
export { PREBUILT_BUNDLE };

export function createMailer(config: Config) {
  if (!config.SMTP_URL) return undefined;
  const url = new URL(config.SMTP_URL);
  // nodemailer's defaults (2 min to connect, 10 min idle) would hold sockets long after an attempt gave up.
  const options = {
    pool: 'true',
    connectionTimeout: '10000',
    greetingTimeout: '10000',
    socketTimeout: '30000',
  };
  for (const [k, v] of Object.entries(options)) if (!url.searchParams.has(k)) url.searchParams.set(k, v);
  return nodemailer.createTransport(url.toString());
}

/**
 * Installs the process-wide Temporal Runtime (once per process, before any connection or worker):
 * its log lines go to `logger` (core's own included), and with WORKER_METRICS_PORT > 0 it serves
 * Prometheus metrics on HOST:WORKER_METRICS_PORT/metrics — the SDK's `temporal_*` worker metrics plus
 * the product's (./interceptors.ts). Signals are left to the caller.
 */
export function installRuntime(config: Config, logger: TemporalLogger): Runtime {
  return Runtime.install({
    logger,
    shutdownSignals: [],
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(config.WORKER_METRICS_PORT > 0 && {
        metrics: {
          prometheus: {
            bindAddress: `${config.HOST}:${config.WORKER_METRICS_PORT}`,
            histogramBucketOverrides: HISTOGRAM_BUCKETS,
          },
        },
      }),
    },
  });
}

/**
 * Counts every delivery attempt, and puts the run's accountId, ruleId, eventId and eventName on every
 * log line an activity writes (the SDK already adds workflowId, activityType and attempt).
 */
export const activityInterceptors: ActivityInterceptorsFactory = (ctx) => {
  let run: RunContext = {};
  return {
    inbound: {
      execute(input, next) {
        // The workflow interceptor sends the run's context in a header; the arguments may add to it.
        const header = input.headers[RUN_CONTEXT_HEADER];
        let fromHeader: RunContext = {};
        try {
          fromHeader = header ? runContextOf(defaultPayloadConverter.fromPayload(header)) : {};
        } catch {
          /* a header we cannot read only costs log fields */
        }
        run = { ...fromHeader, ...runContextOf(input.args[0]) };
        const channel = DELIVERY_CHANNELS[ctx.info.activityType];
        if (channel) {
          ctx.metricMeter
            .createCounter(
              METRICS.deliveryAttempts,
              undefined,
              'Delivery attempts by channel (retries included)',
            )
            .add(1, { channel });
        }
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next({ ...input, ...logFields(run) });
      },
    },
  };
};

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
  // On the worker's own connection, so that rule runs started by an activity can start eagerly here.
  const dataConverter = dataConverterFor(config);
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  const bundle =
    workflowBundle ??
    (existsSync(PREBUILT_BUNDLE) && !__filename.endsWith('.ts') ? { codePath: PREBUILT_BUNDLE } : undefined);
  const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    dataConverter,
    activities: createActivities({ db, config, mailer, temporal }),
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: require.resolve('../workflows') }),
    // In-flight activities get the grace period to finish, then are cancelled; past the force time
    // run() fails rather than hang.
    shutdownGraceTime: graceMs,
    shutdownForceTime: graceMs + 10_000,
    // Runs sleep for days: keeping every one of them in the sticky cache costs ~130 KB each, so a
    // bounded cache keeps memory flat and evicted runs are replayed (cheaply) when their timer fires.
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    ...options,
    interceptors: {
      ...options?.interceptors,
      activity: [activityInterceptors, ...(options?.interceptors?.activity ?? [])],
      // A prebuilt bundle carries its workflow interceptors (see ./bundle.ts).
      ...(!bundle && {
        workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES, ...(options?.interceptors?.workflowModules ?? [])],
      }),
    },
  });
  const workflowSource = !bundle
    ? 'bundled at start'
    : 'codePath' in bundle
      ? bundle.codePath
      : 'in-memory bundle';
  return { worker, workflowSource, close: () => mailer?.close() };
}
