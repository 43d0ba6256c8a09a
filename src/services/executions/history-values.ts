/**
 * Reading values out of a workflow history: payloads through the data converter (and its codec),
 * protobuf timestamps and durations, statuses, failures, and describe()'s pending activities.
 */
import type { DescribeWorkflowExecutionResponse } from '@temporalio/client';
import type { LoadedDataConverter, Payload, ProtoFailure } from '@temporalio/common';
import { WORKFLOW_TYPES } from '../../shared/constants';
import type { ExecutionKind, ExecutionStatus, FailureInfo } from './schemas';

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;
type Duration = Timestamp;
export type PayloadDecoder = (payload: Payload | null | undefined) => Promise<unknown>;

/** Decodes with the client's data converter: its codecs (none by default), then its payload converter. */
export function payloadDecoder(dc: LoadedDataConverter): PayloadDecoder {
  return async (payload) => {
    if (!payload) return undefined;
    let payloads = [payload];
    for (const codec of [...dc.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    return dc.payloadConverter.fromPayload(payloads[0]);
  };
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(String(v)));

export function tsMs(ts: Timestamp): number | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  return num(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
export const durMs = (d: Duration): number =>
  d ? num(d.seconds) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : 0;

const STATUS_BY_CODE: Record<number, ExecutionStatus> = {
  1: 'running',
  2: 'completed',
  3: 'failed',
  4: 'cancelled',
  5: 'terminated',
  6: 'continued_as_new',
  7: 'timed_out',
};
/** temporal.api.enums.v1.WorkflowExecutionStatus → our names. */
export const statusFromCode = (code: number | null | undefined): ExecutionStatus =>
  STATUS_BY_CODE[code ?? 0] ?? 'unknown';

export function kindOf(workflowType: string | null | undefined): ExecutionKind {
  if (workflowType === WORKFLOW_TYPES.event) return 'event';
  if (workflowType === WORKFLOW_TYPES.ruleRun) return 'rule-run';
  if (workflowType === WORKFLOW_TYPES.scheduledTick) return 'scheduled-tick';
  return 'other';
}

export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

/** A failure's message, from its encoded (encrypted) attributes when the worker put it there. */
export async function messageOf(
  f: ProtoFailure | null | undefined,
  decode: PayloadDecoder,
): Promise<string | null> {
  if (!f) return null;
  if (f.encodedAttributes) {
    const attrs = (await decode(f.encodedAttributes).catch(() => undefined)) as
      { message?: unknown } | undefined;
    if (typeof attrs?.message === 'string') return attrs.message;
  }
  return f.message ?? null;
}

export async function decodeFailure(
  f: ProtoFailure | null | undefined,
  decode: PayloadDecoder,
): Promise<FailureInfo | null> {
  if (!f) return null;
  // An activity timeout wraps the last application failure as its cause; report the most specific one.
  const app = f.applicationFailureInfo ? f : f.cause?.applicationFailureInfo ? f.cause : null;
  const details = app ? await decode(app.applicationFailureInfo?.details?.payloads?.[0]) : undefined;
  const d = (details && typeof details === 'object' ? details : {}) as Record<string, unknown>;
  const type =
    app?.applicationFailureInfo?.type ??
    (f.timeoutFailureInfo ? 'Timeout' : f.canceledFailureInfo ? 'Cancelled' : null) ??
    null;
  const own = await messageOf(f, decode);
  const message =
    f.timeoutFailureInfo && app && app !== f ? `${own ?? 'timed out'}: ${await messageOf(app, decode)}` : own;
  return {
    message: message ?? '',
    type,
    nonRetryable: Boolean(app?.applicationFailureInfo?.nonRetryable),
    status: int(d.status),
    code: typeof d.code === 'string' || typeof d.code === 'number' ? d.code : null,
    responseBody: str(d.body),
  };
}

/** The decoded pending activity of a still-running workflow, from describe(). */
export interface PendingActivity {
  activityId: string;
  activityType: string;
  state: 'scheduled' | 'started' | 'cancel_requested' | 'paused' | 'unknown';
  attempt: number;
  lastFailure: FailureInfo | null;
  lastStartedAt: string | null;
  lastAttemptCompletedAt: string | null;
  nextAttemptAt: string | null;
}

export async function decodePendingActivities(
  raw: DescribeWorkflowExecutionResponse,
  decode: PayloadDecoder,
): Promise<PendingActivity[]> {
  const states = ['unknown', 'scheduled', 'started', 'cancel_requested', 'paused', 'paused'] as const;
  return Promise.all(
    (raw.pendingActivities ?? []).map(async (p) => ({
      activityId: p.activityId ?? '',
      activityType: p.activityType?.name ?? '',
      state: states[p.state ?? 0] ?? 'unknown',
      attempt: p.attempt ?? 1,
      lastFailure: await decodeFailure(p.lastFailure, decode),
      lastStartedAt: iso(tsMs(p.lastStartedTime)),
      lastAttemptCompletedAt: iso(tsMs(p.lastAttemptCompleteTime)),
      nextAttemptAt: iso(tsMs(p.nextAttemptScheduleTime)),
    })),
  );
}

export async function decodeAll(
  payloads: Payload[] | null | undefined,
  decode: PayloadDecoder,
): Promise<unknown[]> {
  return Promise.all((payloads ?? []).map((p) => decode(p)));
}

export const NO_FAILURE: FailureInfo = {
  message: '',
  type: null,
  nonRetryable: false,
  status: null,
  code: null,
  responseBody: null,
};
