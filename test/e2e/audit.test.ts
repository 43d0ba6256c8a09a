/** The audit trail (GET /audit) and rule versions (GET /rules/:id/versions…, restore), on the real stack. */
import { HttpClient, startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let acct: AccountClient;
let editor: HttpClient;
let editorKeyId: string;

beforeAll(async () => {
  stack = await startStack();
  acct = await stack.account('Audited');
  const key = await acct.post('/keys', { name: 'editor', role: 'full' });
  editor = new HttpClient(stack.url, key.body.key);
  editorKeyId = key.body.id;
});
afterAll(async () => {
  await stack?.stop();
});

const smsRule = (message: string, trigger: object = { eventName: 'job.done' }) => ({
  name: 'Tell the technician',
  trigger,
  delay: { value: 0, unit: 'seconds' },
  conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'Done' }] },
  actions: [
    { type: 'sms', params: { recipient: { source: 'fact', fact: 'job', path: '$.phone' }, message } },
  ],
});
const audit = async (query: string) => {
  const res = await acct.get(`/audit?${query}`);
  expect(res.status).toBe(200);
  return res.body.items as any[];
};

test('every rule version is kept whole; restore makes a new version with the old content and syncs the Schedule', async () => {
  const v1 = await editor.post(
    '/rules',
    smsRule('first', { schedule: { cron: '0 9 * * MON', timezone: 'UTC' } }),
  );
  expect(v1.status).toBe(201);
  const id = v1.body.id;
  const v2 = await editor.put(
    `/rules/${id}`,
    smsRule('second', { schedule: { cron: '0 7 * * *', timezone: 'UTC' } }),
  );
  expect(v2.body.version).toBe(2);
  const v3 = await editor.patch(`/rules/${id}`, { name: 'Renamed' });
  expect(v3.body.version).toBe(3);

  const versions = await acct.get(`/rules/${id}/versions`);
  expect(versions.status).toBe(200);
  expect(versions.body.items).toEqual([
    { version: 1, action: 'create', at: expect.any(String), keyId: editorKeyId },
    { version: 2, action: 'update', at: expect.any(String), keyId: editorKeyId },
    { version: 3, action: 'update', at: expect.any(String), keyId: editorKeyId },
  ]);
  expect((await acct.get(`/rules/${id}/versions/1`)).body).toEqual({ ...v1.body, warnings: undefined });
  expect((await acct.get(`/rules/${id}/versions/2`)).body).toEqual({ ...v2.body, warnings: undefined });
  for (const bad of ['4', '0', 'one'])
    expect((await acct.get(`/rules/${id}/versions/${bad}`)).status).toBe(404);

  const restored = await acct.post(`/rules/${id}/versions/1/restore`);
  expect(restored.status).toBe(200);
  expect(restored.body).toMatchObject({ version: 4, name: 'Tell the technician', trigger: v1.body.trigger });
  expect(restored.body.actions[0].params.message).toBe('first');
  const schedule = await stack.temporal.schedule.getHandle(`schedule-${id}`).describe();
  // Back to Mondays at 9 (version 2 said every day at 7).
  expect(schedule.spec.calendars?.[0]).toMatchObject({
    hour: [{ start: 9 }],
    dayOfWeek: [{ start: 'MONDAY' }],
  });
  expect((await acct.get(`/rules/${id}/versions`)).body.items[3]).toMatchObject({
    version: 4,
    action: 'restore',
  });

  // A deleted rule: gone from /rules, its whole history still in /audit.
  expect((await acct.delete(`/rules/${id}`)).status).toBe(204);
  expect((await acct.get(`/rules/${id}/versions`)).status).toBe(404);
  const trail = await audit(`entity=rule&entityId=${id}`);
  expect(trail.map((e) => [e.action, e.version])).toEqual([
    ['create', 1],
    ['update', 2],
    ['update', 3],
    ['restore', 4],
    ['delete', 4],
  ]);
  expect(trail[1].before).toEqual({ ...v1.body, warnings: undefined });
  expect(trail[1].after).toEqual({ ...v2.body, warnings: undefined });
  expect(trail[4]).toMatchObject({ keyId: expect.stringMatching(/^key_/), after: null });
  expect(trail[4].keyId).not.toBe(editorKeyId);
  expect(trail[4].before.actions[0].params.message).toBe('first');
});

test('a restore is validated again: a version naming a template that is gone is a 400', async () => {
  expect((await acct.put('/templates/gone-soon', { name: 'T', subject: 'S', text: 'x' })).status).toBe(201);
  const emailRule = {
    ...smsRule('x'),
    actions: [{ type: 'email', params: { recipient: 'a@example.com', templateId: 'gone-soon' } }],
  };
  const v1 = await acct.post('/rules', emailRule);
  expect(v1.status).toBe(201);
  expect((await acct.put(`/rules/${v1.body.id}`, smsRule('no template'))).status).toBe(200);
  expect((await acct.delete('/templates/gone-soon')).status).toBe(204);
  const res = await acct.post(`/rules/${v1.body.id}/versions/1/restore`);
  expect(res.status).toBe(400);
  expect((await acct.get(`/rules/${v1.body.id}`)).body.version).toBe(2);
  expect((await audit(`entity=rule&entityId=${v1.body.id}`)).map((e) => e.action)).toEqual([
    'create',
    'update',
  ]);
});

test('users and templates: each change recorded with before and after; a refused change records nothing', async () => {
  const user = await editor.post('/users', { externalId: 'u-1', name: 'Ann' });
  expect(user.status).toBe(201);
  expect((await editor.patch(`/users/${user.body.id}`, { name: 'Anne' })).status).toBe(200);
  expect((await editor.post('/users', { externalId: 'u-1' })).status).toBe(409);
  expect((await editor.delete(`/users/${user.body.id}`)).status).toBe(204);
  const users = await audit(`entity=user&entityId=${user.body.id}`);
  expect(users.map((e) => [e.action, e.before?.name ?? null, e.after?.name ?? null, e.keyId])).toEqual([
    ['create', null, 'Ann', editorKeyId],
    ['update', 'Ann', 'Anne', editorKeyId],
    ['delete', 'Anne', null, editorKeyId],
  ]);
  expect((await audit('entity=user')).length).toBe(3);

  await editor.put('/templates/welcome', { name: 'W', subject: 'Hi', text: 'a' });
  await editor.put('/templates/welcome', { name: 'W2', subject: 'Hi', text: 'b' });
  await editor.delete('/templates/welcome');
  const templates = await audit('entity=template&entityId=welcome');
  expect(templates.map((e) => [e.action, e.before?.name ?? null, e.after?.name ?? null])).toEqual([
    ['create', null, 'W'],
    ['update', 'W', 'W2'],
    ['delete', 'W2', null],
  ]);
});

test('GET /audit: keyset pages, a time range, and nothing of another account', async () => {
  const all = await audit('limit=200');
  expect(all.map((e) => e.entity)).toEqual(
    expect.arrayContaining(['account', 'key', 'rule', 'user', 'template']),
  );
  const first = await acct.get('/audit?limit=2');
  expect(first.body.items).toEqual(all.slice(0, 2));
  const second = await acct.get(`/audit?limit=2&cursor=${first.body.nextCursor}`);
  expect(second.body.items).toEqual(all.slice(2, 4));
  const middle = all[Math.floor(all.length / 2)];
  const since = await audit(`limit=200&since=${encodeURIComponent(middle.at)}`);
  expect(since.every((e) => e.at >= middle.at)).toBe(true);
  expect(since.length).toBeLessThan(all.length);
  const until = await audit(`limit=200&until=${encodeURIComponent(middle.at)}`);
  expect(until.length + since.length).toBe(all.length);
  expect((await acct.get('/audit?since=yesterday')).status).toBe(400);

  const other = await stack.account('Other');
  const theirs = (await other.get('/audit')).body.items;
  expect(theirs.map((e: any) => e.entityId)).toEqual([other.id, expect.any(String)]);
  const ruleId = (await acct.post('/rules', smsRule('mine'))).body.id;
  expect((await other.get(`/rules/${ruleId}/versions`)).status).toBe(404);
  expect((await other.get(`/rules/${ruleId}/versions/1`)).status).toBe(404);
  expect((await other.post(`/rules/${ruleId}/versions/1/restore`)).status).toBe(404);
});

test('suppressions and account settings: each change recorded, the rotated secret never', async () => {
  const added = await editor.post('/suppressions', {
    channel: 'sms',
    address: '+15550001111',
    reason: 'asked',
  });
  expect(added.status).toBe(201);
  expect((await editor.delete(`/suppressions/${added.body.id}`)).status).toBe(204);
  expect((await editor.patch('/account', { timezone: 'America/Chicago' })).status).toBe(200);
  const rotated = await editor.post('/account/webhook-secret/rotate');
  expect(rotated.status).toBe(200);

  const sup = await audit(`entity=suppression&entityId=${added.body.id}`);
  expect(sup.map((e: any) => [e.action, e.keyId])).toEqual([
    ['create', editorKeyId],
    ['delete', editorKeyId],
  ]);
  expect(sup[0].after).toMatchObject({ channel: 'sms', address: '+15550001111', reason: 'asked' });

  const account = await audit(`entity=account&entityId=${acct.id}`);
  const update = account.find((e: any) => e.action === 'update');
  expect(update).toMatchObject({
    keyId: editorKeyId,
    before: { timezone: 'UTC' },
    after: { timezone: 'America/Chicago' },
  });
  const rotate = account.find((e: any) => e.action === 'rotate');
  expect(rotate).toMatchObject({ keyId: editorKeyId });
  expect(JSON.stringify(account)).not.toContain(rotated.body.webhookSecret);
});
