/**
 * Workflow interceptors: the product's run metrics and log context, recorded from inside the workflow
 * sandbox. This module is bundled into the workflow code (see ./bundle.ts), so it must stay
 * deterministic: no Node modules, no I/O, time only through the workflow clock. The SDK's `metricMeter`
 * emits nothing while a workflow replays, so a worker restart or a cache eviction never counts twice.
 *
 * Metrics (served on the worker's WORKER_METRICS_PORT together with the SDK's own `temporal_*` ones):
 * - rule_runs_total{outcome}: a rule run ended sent, conditions_not_met, skipped, failed or cancelled.
 * - deliveries_total{channel,outcome}: an action's delivery ended (after its retries) sent, outbox,
 *   duplicate (the ledger had it already), suppressed (the recipient opted out), failed or cancelled.
 * - event_to_delivery_latency_seconds{channel}: from the API accepting the event to the delivery.
 * - timer_lateness_seconds: how long after its due time a durable sleep was seen firing.
 * delivery_attempts_total{channel} counts every attempt; it is recorded by the activity interceptor
 * in ./worker.ts.
 */
import {
  defaultPayloadConverter,
  isCancellation,
  metricMeter,
  TemporalFailure,
  workflowInfo,
  type Headers,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { WORKFLOW_TYPES } from '../shared/constants';

export const METRICS = {
  ruleRuns: 'rule_runs_total',
  deliveries: 'deliveries_total',
  deliveryAttempts: 'delivery_attempts_total',
  eventToDelivery: 'event_to_delivery_latency_seconds',
  timerLateness: 'timer_lateness_seconds',
} as const;

/** Delivery activity type → channel label. */
export const DELIVERY_CHANNELS: Readonly<Record<string, string>> = {
  sendSms: 'sms',
  sendEmail: 'email',
  sendWebhook: 'webhook',
};

/** Seconds; delays run from seconds to a year, so the latency buckets reach that far. */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [METRICS.eventToDelivery]: [
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
    900,
    3600,
    6 * 3600,
    86400,
    7 * 86400,
    30 * 86400,
    365 * 86400,
  ],
  [METRICS.timerLateness]: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
};

/** What a workflow's input says about the run, for log lines. */
export interface RunContext {
  accountId?: string;
  ruleId?: string;
  eventId?: string;
  eventName?: string;
  receivedAt?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Reads the fields every workflow and activity input of this product uses (RuleRunInput, DeliveryContext…). */
export function runContextOf(arg: unknown): RunContext {
  if (typeof arg !== 'object' || arg === null) return {};
  const a = arg as Record<string, unknown>;
  const rule = (typeof a.rule === 'object' && a.rule !== null ? a.rule : {}) as Record<string, unknown>;
  const event = (typeof a.event === 'object' && a.event !== null ? a.event : {}) as Record<string, unknown>;
  const ctx: RunContext = {
    accountId: str(a.accountId),
    ruleId: str(a.ruleId) ?? str(rule.id),
    eventId: str(a.eventId) ?? str(event.id),
    eventName: str(a.eventName) ?? str(event.name),
    receivedAt: str(event.receivedAt),
  };
  for (const k of Object.keys(ctx) as (keyof RunContext)[]) if (ctx[k] === undefined) delete ctx[k];
  return ctx;
}

/**
 * Activity header carrying the run's context (accountId, ruleId, eventId, eventName), so an activity's
 * log lines name the run even when its arguments do not (a DeliveryContext has no eventId).
 */
export const RUN_CONTEXT_HEADER = 'crm-run-context';

/** The fields that go on log lines: everything but the timestamp. */
export function logFields(run: RunContext): Omit<RunContext, 'receivedAt'> {
  const { receivedAt: _receivedAt, ...fields } = run;
  return fields;
}

function withRunContext<T extends { readonly headers: Headers }>(input: T, run: RunContext): T {
  const fields = logFields(run);
  if (Object.keys(fields).length === 0) return input;
  return {
    ...input,
    headers: { ...input.headers, [RUN_CONTEXT_HEADER]: defaultPayloadConverter.toPayload(fields) },
  };
}

const RUN_OUTCOMES = new Set(['sent', 'conditions_not_met', 'skipped', 'failed', 'cancelled']);

function deliveryOutcome(result: unknown): string {
  const via = (result as { via?: unknown } | undefined)?.via;
  if (via === 'outbox') return 'outbox';
  if (via === 'ledger') return 'duplicate';
  if (via === 'suppressed') return 'suppressed';
  return 'sent';
}

const seconds = (ms: number) => Math.max(0, ms) / 1000;

export const interceptors: WorkflowInterceptorsFactory = () => {
  let run: RunContext = {};
  return {
    inbound: [
      {
        async execute(input, next) {
          run = runContextOf(input.args[0]);
          if (workflowInfo().workflowType !== WORKFLOW_TYPES.ruleRun) return next(input);
          const runs = metricMeter.createCounter(METRICS.ruleRuns, undefined, 'Rule runs by outcome');
          try {
            const result = await next(input);
            const outcome = (result as { outcome?: unknown } | undefined)?.outcome;
            if (typeof outcome === 'string' && RUN_OUTCOMES.has(outcome)) runs.add(1, { outcome });
            return result;
          } catch (err) {
            // Other errors fail the workflow task (and are retried), not the run: the SDK counts those.
            if (isCancellation(err)) runs.add(1, { outcome: 'cancelled' });
            else if (err instanceof TemporalFailure) runs.add(1, { outcome: 'failed' });
            throw err;
          }
        },
      },
    ],
    outbound: [
      {
        scheduleLocalActivity(input, next) {
          return next(withRunContext(input, run));
        },
        scheduleActivity(plain, next) {
          const input = withRunContext(plain, run);
          const channel = DELIVERY_CHANNELS[input.activityType];
          if (!channel) return next(input);
          const deliveries = metricMeter.createCounter(
            METRICS.deliveries,
            undefined,
            'Deliveries by channel and final outcome (after retries)',
          );
          return next(input).then(
            (result) => {
              const outcome = deliveryOutcome(result);
              deliveries.add(1, { channel, outcome });
              if (run.receivedAt && outcome !== 'duplicate' && outcome !== 'suppressed') {
                metricMeter
                  .createHistogram(
                    METRICS.eventToDelivery,
                    'float',
                    's',
                    'From the API accepting the event to the delivery (includes the rule delay)',
                  )
                  .record(seconds(Date.now() - Date.parse(run.receivedAt)), { channel });
              }
              return result;
            },
            (err: unknown) => {
              deliveries.add(1, { channel, outcome: isCancellation(err) ? 'cancelled' : 'failed' });
              throw err;
            },
          );
        },
        startTimer(input, next) {
          const due = Date.now() + input.durationMs;
          return next(input).then(() => {
            metricMeter
              .createHistogram(
                METRICS.timerLateness,
                'float',
                's',
                'How long after its due time a durable sleep was seen firing',
              )
              .record(seconds(Date.now() - due));
          });
        },
        getLogAttributes(input, next) {
          return next({ ...logFields(run), ...input });
        },
      },
    ],
  };
};
