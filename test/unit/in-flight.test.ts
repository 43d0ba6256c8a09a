import { AccountGate } from '../../src/api/in-flight';
import { ApiError } from '../../src/shared/errors';

/** A start that finishes when the test says so. */
function pending() {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { done, finish };
}

test('at most `limit` run per account, the next wait in order, past the queue a 429 with Retry-After', async () => {
  const gate = new AccountGate(2, 1);
  const order: string[] = [];
  const starts = ['a', 'b', 'c'].map((name) => {
    const p = pending();
    const result = gate.run('acc_1', async () => {
      order.push(name);
      await p.done;
      return name;
    });
    return { ...p, result };
  });
  await new Promise((r) => setImmediate(r));
  expect(order).toEqual(['a', 'b']); // c waits

  const over = await gate.run('acc_1', async () => 'd').catch((e: unknown) => e);
  expect(over).toBeInstanceOf(ApiError);
  expect(over).toMatchObject({ status: 429, code: 'too_many_in_flight', headers: { 'Retry-After': '1' } });

  // Another account is not held up by this one.
  await expect(gate.run('acc_2', async () => 'other')).resolves.toBe('other');

  starts[0].finish();
  await expect(starts[0].result).resolves.toBe('a');
  await new Promise((r) => setImmediate(r));
  expect(order).toEqual(['a', 'b', 'c']);
  starts[1].finish();
  starts[2].finish();
  await expect(Promise.all(starts.map((s) => s.result))).resolves.toEqual(['a', 'b', 'c']);
  // Slots are released: the account has its whole bound again.
  await expect(gate.run('acc_1', async () => 'e')).resolves.toBe('e');
});

test('a failed start releases its slot', async () => {
  const gate = new AccountGate(1, 0);
  await expect(gate.run('acc', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  await expect(gate.run('acc', async () => 'ok')).resolves.toBe('ok');
});

test('limit 0 means no bound', async () => {
  const gate = new AccountGate(0, 0);
  const p = pending();
  const first = gate.run('acc', () => p.done);
  await expect(gate.run('acc', async () => 'second')).resolves.toBe('second');
  p.finish();
  await first;
});

test('an event whose turn has not come by its deadline leaves the queue with a 429, the others keep their places', async () => {
  const gate = new AccountGate(1, 10);
  const first = pending();
  const running = gate.run('acc', () => first.done.then(() => 'first'));
  const late = gate.run('acc', async () => 'late', Date.now() + 50).catch((e: unknown) => e);
  const patient = gate.run('acc', async () => 'patient', Date.now() + 60_000);
  expect(await late).toMatchObject({
    status: 429,
    code: 'too_many_in_flight',
    message: expect.stringContaining('slower than they arrive'),
    headers: { 'Retry-After': '1' },
  });
  first.finish();
  // The slot goes to the one still waiting, not to the one that left.
  await expect(Promise.all([running, patient])).resolves.toEqual(['first', 'patient']);
  await expect(gate.run('acc', async () => 'again', Date.now())).resolves.toBe('again');
});
