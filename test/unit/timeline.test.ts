/**
 * The timeline decoder on the checked-in histories (exported with `temporal workflow show -o json` by
 * scripts/refresh-histories.ts): no server needed, the same code path as GET /executions/:id.
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultDataConverter } from '@temporalio/common';
import {
  buildListQuery,
  decodeHistory,
  executionDetailSchema,
  payloadDecoder,
  quote,
  timelineEntrySchema,
  type DecodedRun,
  type PendingActivity,
} from '../../src/services/executions';

const decode = payloadDecoder(defaultDataConverter);
const loadFrom = (dir: string) => (name: string) =>
  historyFromJSON(JSON.parse(readFileSync(path.join(__dirname, '../histories', dir, name), 'utf8')));
const load = loadFrom('');
const ofType = <T extends DecodedRun['timeline'][number]['type']>(run: DecodedRun, type: T) =>
  run.timeline.filter((e) => e.type === type) as Extract<DecodedRun['timeline'][number], { type: T }>[];

// Today's runs (local activities: the event's startRuleRuns, the run's prepareRun) and runs recorded
// before (child starts, prepareRun as an activity) read the same, since both kinds are in flight.
describe.each([
  ['current', ''],
  ['recorded before local activities', 'before-local-activities'],
])('decodeHistory on exported histories (%s)', (_, dir) => {
  const load = loadFrom(dir);

  test('a sent run: event, match, delay with planned and actual end, re-read, condition, attempt, outcome', async () => {
    const run = await decodeHistory(load('sent-run.json'), decode);
    expect(run.kind).toBe('rule-run');
    expect(run.timeline.map((e) => e.type)).toEqual([
      'event_received',
      'rule_matched',
      'delay_started',
      'delay_ended',
      'rule_reread',
      'condition',
      'conditions_evaluated',
      'action_attempt',
      'outcome',
    ]);
    const [started] = ofType(run, 'delay_started');
    const [ended] = ofType(run, 'delay_ended');
    expect(started.delay).toBe('1 second');
    expect(started.remainingMs).toBeLessThanOrEqual(1000);
    expect(ended.plannedEndAt).toBe(started.plannedEndAt);
    expect(Date.parse(ended.actualEndAt!)).toBeGreaterThanOrEqual(Date.parse(started.plannedEndAt) - 5);
    expect(ofType(run, 'condition')[0]).toMatchObject({
      fact: 'job',
      path: '$.status',
      operator: 'equal',
      value: 'done',
      factValue: 'done',
      result: true,
    });
    expect(ofType(run, 'action_attempt')).toEqual([
      expect.objectContaining({
        actionIndex: 0,
        actionType: 'webhook',
        activityType: 'sendWebhook',
        attempt: 1,
        outcome: 'sent',
        status: 200,
        summary: expect.stringMatching(/^POST webhook to 127\.0\.0\.1:\d+$/),
      }),
    ]);
    expect(ofType(run, 'outcome')[0]).toMatchObject({ status: 'completed', outcome: 'sent' });
    expect(run.event).toMatchObject({
      name: 'job.completed',
      id: 'evt-sent',
      payload: { job: { number: 1042 } },
    });
    expect(run.ruleVersion).toBe(1);
    for (const e of run.timeline) expect(() => timelineEntrySchema.parse(e)).not.toThrow();
  });

  test('a skipped run says why', async () => {
    const run = await decodeHistory(load('skipped-run.json'), decode);
    expect(ofType(run, 'rule_reread')[0]).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringContaining('disabled'),
    });
    expect(ofType(run, 'action_attempt')).toEqual([]);
    expect(ofType(run, 'outcome')[0]).toMatchObject({ outcome: 'skipped' });
  });

  test('a run that retried then failed shows both attempts with their HTTP status', async () => {
    const run = await decodeHistory(load('failed-run.json'), decode);
    expect(ofType(run, 'delay_started')).toEqual([]);
    const attempts = ofType(run, 'action_attempt');
    expect(attempts.map((a) => [a.attempt, a.outcome, a.status])).toEqual([
      [1, 'retried', 503],
      [2, 'failed', 400],
    ]);
    // The message named the target as "webhook" before; today it says "POST host:port".
    expect(attempts[0]).toMatchObject({
      error: expect.stringMatching(/ answered 503$/),
      errorType: 'TransientDeliveryError',
    });
    expect(attempts[1]).toMatchObject({
      error: expect.stringMatching(/ answered 400$/),
      errorType: 'PermanentDeliveryError',
      responseBody: expect.any(String),
    });
    expect(attempts[1].at).not.toBeNull();
    expect(ofType(run, 'outcome')[0]).toMatchObject({ status: 'failed', outcome: 'failed' });
    expect(run.error).toMatchObject({ type: 'ActionsFailed' });
    expect(run.result).toMatchObject({ outcome: 'failed', actions: [{ attempts: 2, outcome: 'failed' }] });
  });

  test('an event run lists the rules it matched and the runs it started', async () => {
    const run = await decodeHistory(load('event-run.json'), decode);
    expect(run.kind).toBe('event');
    const [matched] = ofType(run, 'rules_matched');
    expect(matched.rules).toHaveLength(1);
    const [child] = ofType(run, 'rule_run_started');
    expect(child.workflowId).toBe(`run-${matched.rules[0].ruleId}-evt-sent`);
    expect(child.runId).toEqual(expect.any(String));
    expect(run.children).toEqual([
      { workflowId: child.workflowId, ruleId: matched.rules[0].ruleId, ruleName: matched.rules[0].ruleName },
    ]);
  });
});

test('a suppressed action says why and sends nothing; the run completes with the rest sent', async () => {
  const run = await decodeHistory(load('suppressed-run.json'), decode);
  const attempts = ofType(run, 'action_attempt').sort((x, y) => x.actionIndex - y.actionIndex);
  expect(attempts.map((a) => [a.actionType, a.outcome, a.via])).toEqual([
    ['sms', 'suppressed', 'suppressed'],
    ['webhook', 'sent', 'provider'],
  ]);
  expect(attempts[0]).toMatchObject({
    reason: expect.stringContaining('suppression list'),
    providerId: null,
  });
  expect(ofType(run, 'outcome')[0]).toMatchObject({
    outcome: 'sent',
    message: 'sent 1 action(s), 1 suppressed',
  });
  for (const e of run.timeline) expect(() => timelineEntrySchema.parse(e)).not.toThrow();
});

describe('decodeHistory with describe() info', () => {
  test('a still-running action is completed from describe(): attempt, last failure, next attempt', async () => {
    // The failed history cut before its last attempt, as the server would show it while retrying.
    const full = load('failed-run.json');
    const webhookScheduled = full.events!.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendWebhook',
    )!.eventId!;
    const cut = full.events!.findIndex(
      (e) =>
        e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === webhookScheduled.toString(),
    );
    const history = { events: full.events!.slice(0, cut) };
    const pending: PendingActivity[] = [
      {
        activityId: '2',
        activityType: 'sendWebhook',
        state: 'scheduled',
        attempt: 2,
        lastFailure: {
          message: 'webhook answered 503',
          type: 'TransientDeliveryError',
          nonRetryable: false,
          status: 503,
          code: null,
          responseBody: 'try again later',
        },
        lastStartedAt: '2026-01-01T00:00:00.000Z',
        lastAttemptCompletedAt: '2026-01-01T00:00:01.000Z',
        nextAttemptAt: '2026-01-01T00:00:02.000Z',
      },
    ];
    const run = await decodeHistory(history, decode, pending);
    expect(ofType(run, 'action_attempt').map((a) => [a.attempt, a.outcome, a.status, a.at])).toEqual([
      [1, 'retried', 503, '2026-01-01T00:00:01.000Z'],
      [2, 'backing_off', null, '2026-01-01T00:00:00.000Z'],
    ]);
    expect(ofType(run, 'action_attempt')[1].nextAttemptAt).toBe('2026-01-01T00:00:02.000Z');
    expect(ofType(run, 'outcome')).toEqual([]);
  });

  test('the detail schema documents every field the decoder produces', () => {
    expect(Object.keys(executionDetailSchema.shape)).toEqual(
      expect.arrayContaining(['status', 'kind', 'ruleId', 'ruleVersion', 'event', 'result', 'timeline']),
    );
  });
});

describe('visibility query', () => {
  test('always starts with the account and only narrows it', () => {
    expect(buildListQuery('acc_1', { ruleId: 'rule_x', status: 'failed', kind: 'rule-run' })).toBe(
      "AccountId = 'acc_1' AND RuleId = 'rule_x' AND ExecutionStatus = 'Failed' AND WorkflowType = 'ruleRunWorkflow'",
    );
  });

  test('quote escapes what could end a literal and refuses control characters', () => {
    expect(quote("x' OR AccountId != '")).toBe("'x\\' OR AccountId != \\''");
    expect(quote('a\\b')).toBe("'a\\\\b'");
    expect(() => quote('a\nb')).toThrow();
  });
});

describe('decodeHistory on keyed reminder runs', () => {
  test('rescheduled: the send time computed, the later event, the move (old → new, by which event), then sent', async () => {
    const run = await decodeHistory(load('keyed-rescheduled-run.json'), decode);
    const types = run.timeline.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      'event_received',
      'rule_matched',
      'follow_event',
      'send_time_computed',
    ]);
    expect(types).toContain('rescheduled');
    expect(types[types.length - 1]).toBe('outcome');
    const [computed] = ofType(run, 'send_time_computed');
    expect(computed.basis).toMatch(/^job\.scheduledAt .* - 1 seconds$/);
    const [moved] = ofType(run, 'rescheduled');
    expect(moved.byEvent).toBe('job.rescheduled (event evt-keyed-moved)');
    expect(Date.parse(moved.to)).toBeLessThan(Date.parse(moved.from));
    expect(ofType(run, 'follow_event').map((e) => e.as)).toEqual(['trigger', 'update']);
    // The timer ends at the planned send time, not at ingest plus a delay.
    const started = ofType(run, 'delay_started');
    expect(started[started.length - 1].plannedEndAt).toBe(moved.to);
    expect(ofType(run, 'outcome')[0]).toMatchObject({ outcome: 'sent' });
    for (const e of run.timeline) expect(timelineEntrySchema.safeParse(e).success).toBe(true);
  });

  test('cancelled while waiting for the window: the window wait, the cancelling event, the outcome', async () => {
    const run = await decodeHistory(load('window-wait-run.json'), decode);
    expect(ofType(run, 'window_wait')[0]).toMatchObject({ timezone: 'UTC' });
    expect(ofType(run, 'follow_event').map((e) => e.as)).toEqual(['trigger', 'cancel']);
    expect(ofType(run, 'outcome')[0]).toMatchObject({
      outcome: 'cancelled',
      message: 'cancelled by job.cancelled (event evt-window-cancelled)',
    });
  });
});
