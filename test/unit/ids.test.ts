/** The pieces of the id rules that need no stack: retry ids and event content hashes. */
import { eventContentHash } from '../../src/api/routes/events';
import { retryRoot } from '../../src/services/executions/service';
import { EVENT_ID } from '../../src/shared/schemas';
import { workflowIds } from '../../src/shared/constants';

test('retry ids continue from the run they repeat, in either form', () => {
  expect(retryRoot('run-rule_a-e1', null)).toEqual({ root: 'run-rule_a-e1', next: 1 });
  expect(retryRoot('run-rule_a-e1~retry-3', 'run-rule_a-e1')).toEqual({ root: 'run-rule_a-e1', next: 4 });
  // The old form is a retry only when its memo says so: otherwise it is an event's own run.
  expect(retryRoot('run-rule_a-e1-retry-2', 'run-rule_a-e1')).toEqual({ root: 'run-rule_a-e1', next: 3 });
  expect(retryRoot('run-rule_a-e1-retry-2', null)).toEqual({ root: 'run-rule_a-e1-retry-2', next: 1 });
  // A keyed run whose key reads like a retry is no retry: its retry gets an id no keyed run can have.
  expect(retryRoot(workflowIds.keyedRun('rule_a', 'retry-1'), null)).toEqual({
    root: 'run-rule_a~retry-1',
    next: 1,
  });
  expect(workflowIds.retry('run-rule_a~retry-1', 1)).not.toBe(workflowIds.keyedRun('rule_a', 'retry-2'));
  const retry = workflowIds.retry('run-rule_a-e1', 1);
  expect(EVENT_ID.test(retry.slice('run-rule_a-'.length))).toBe(false);
});

test('the content hash ignores key order, not values, array order, names or users', () => {
  const base = { name: 'job.done', payload: { a: 1, b: { c: [1, 2], d: null } } };
  const h = eventContentHash(base);
  expect(eventContentHash({ name: 'job.done', payload: { b: { d: null, c: [1, 2] }, a: 1 } })).toBe(h);
  for (const other of [
    { ...base, name: 'job.created' },
    { ...base, userId: 'u1' },
    { ...base, payload: { a: 1, b: { c: [2, 1], d: null } } },
    { ...base, payload: { a: '1', b: { c: [1, 2], d: null } } },
    { ...base, payload: { a: 1, b: { c: [1, 2] } } },
  ]) {
    expect(eventContentHash(other)).not.toBe(h);
  }
});
