/** Users and email templates through the HTTP API on the real stack. */
import { startStack, type AccountClient, type Stack } from '../helpers/stack';

let stack: Stack;
let acct: AccountClient;
let other: AccountClient;

beforeAll(async () => {
  stack = await startStack();
  acct = await stack.account('Users owner');
  other = await stack.account('Someone else');
});
afterAll(async () => {
  await stack?.stop();
});

let n = 0;
const uniq = () => `${Date.now().toString(36)}-${++n}`;

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Array) } });
}

const jane = () => ({
  externalId: `tech-${uniq()}`,
  name: 'Jane Doe',
  email: 'jane@example.com',
  phone: '+15557654321',
  timezone: 'America/Chicago',
  attributes: { certifiedUntil: '2026-01-31', skills: ['hvac'] },
});

describe('users', () => {
  test('create, read, replace, patch, delete', async () => {
    const body = jane();
    const created = await acct.post('/users', body);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/users/${created.body.id}`);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^user_/),
      ...body,
      preferences: {},
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const id = created.body.id;
    expect((await acct.get(`/users/${id}`)).body).toEqual(created.body);

    // PUT replaces the whole user: fields not sent are cleared.
    const put = await acct.put(`/users/${id}`, { externalId: body.externalId, name: 'Jane D.' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      id,
      externalId: body.externalId,
      name: 'Jane D.',
      email: null,
      phone: null,
      timezone: null,
      attributes: {},
    });
    expect(put.body.createdAt).toBe(created.body.createdAt);

    // PATCH changes only what it names; null clears.
    const patched = await acct.patch(`/users/${id}`, {
      phone: '+442071838750',
      attributes: { tier: 'gold' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Jane D.',
      phone: '+442071838750',
      attributes: { tier: 'gold' },
    });
    const cleared = await acct.patch(`/users/${id}`, { name: null });
    expect(cleared.body).toMatchObject({ name: null, phone: '+442071838750' });

    const del = await acct.delete(`/users/${id}`);
    expect(del.status).toBe(204);
    expectError(await acct.get(`/users/${id}`), 404, 'not_found');
    expectError(await acct.delete(`/users/${id}`), 404, 'not_found');
    expectError(await acct.put(`/users/${id}`, jane()), 404, 'not_found');
  });

  test('a user with no fields at all is allowed (attributes default to {})', async () => {
    const res = await acct.post('/users', {});
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ externalId: null, name: null, attributes: {} });
  });

  test('externalId is unique per account: 409 on create and on update, free in another account', async () => {
    const body = jane();
    const first = await acct.post('/users', body);
    expect(first.status).toBe(201);
    const dup = await acct.post('/users', { ...jane(), externalId: body.externalId });
    expectError(dup, 409, 'conflict');
    expect(dup.body.error.details).toEqual([
      { path: 'externalId', message: `already used by user ${first.body.id}` },
    ]);

    const second = await acct.post('/users', jane());
    const clash = await acct.patch(`/users/${second.body.id}`, { externalId: body.externalId });
    expectError(clash, 409, 'conflict');
    const clashPut = await acct.put(`/users/${second.body.id}`, { externalId: body.externalId });
    expectError(clashPut, 409, 'conflict');

    // Another account may use the same externalId.
    expect((await other.post('/users', { externalId: body.externalId })).status).toBe(201);
    // Several users without an externalId are fine.
    expect((await acct.post('/users', { name: 'a' })).status).toBe(201);
    expect((await acct.post('/users', { name: 'b' })).status).toBe(201);
  });

  test.each([
    ['phone not E.164', { phone: '555-1234' }, 'phone', 'must be an E.164 phone number such as +15551234567'],
    [
      'phone without +',
      { phone: '15551234567' },
      'phone',
      'must be an E.164 phone number such as +15551234567',
    ],
    ['email invalid', { email: 'jane@' }, 'email', 'must be a valid email address'],
    [
      'timezone unknown',
      { timezone: 'Mars/Olympus' },
      'timezone',
      'must be an IANA time zone such as America/Chicago',
    ],
    [
      'timezone as offset',
      { timezone: '+01:00' },
      'timezone',
      'must be an IANA time zone such as America/Chicago',
    ],
    ['attributes an array', { attributes: ['a'] }, 'attributes', 'must be an object'],
    ['attributes a string', { attributes: 'gold' }, 'attributes', 'must be an object'],
    [
      'attributes over 16 KB',
      { attributes: { blob: 'x'.repeat(17_000) } },
      'attributes',
      'must be at most 16 KB as JSON',
    ],
    ['externalId empty', { externalId: '' }, 'externalId', 'must not be empty'],
    ['externalId a number', { externalId: 12 }, 'externalId', 'must be a string'],
    ['name too long', { name: 'x'.repeat(201) }, 'name', 'must be at most 200 characters'],
    ['unknown field', { role: 'admin' }, 'role', 'unknown field'],
    [
      'NUL in a string',
      { name: 'a\u0000b' },
      'name',
      'must not contain NUL characters or unpaired surrogates',
    ],
    [
      '__proto__ key in attributes',
      JSON.parse('{"attributes": {"__proto__": {"admin": true}}}'),
      'attributes.__proto__',
      'the key __proto__ is not allowed',
    ],
  ])('validation: %s', async (_label, body, path, message) => {
    for (const res of [
      await acct.post('/users', body),
      await acct.patch(`/users/${(await acct.post('/users', {})).body.id}`, body),
    ]) {
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details).toEqual([{ path, message }]);
    }
  });

  test('attributes of 16 KB are accepted, and unicode round-trips', async () => {
    const attributes = { blob: 'y'.repeat(16_000), name: '名前 🚀 Ünïcödé' };
    const res = await acct.post('/users', { name: 'Zoë 🚀', attributes });
    expect(res.status).toBe(201);
    expect((await acct.get(`/users/${res.body.id}`)).body).toMatchObject({ name: 'Zoë 🚀', attributes });
  });

  test('list: pagination with inserts between pages, and the externalId filter', async () => {
    const mine = await stack.account('User pages');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await mine.post('/users', jane())).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await mine.get(
        `/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((u: any) => u.id));
      cursor = res.body.nextCursor;
      if (++pages === 1) ids.push((await mine.post('/users', jane())).body.id);
    } while (cursor);
    expect(seen).toEqual(ids);

    const target = (await mine.get(`/users/${ids[1]}`)).body;
    const filtered = await mine.get(`/users?externalId=${encodeURIComponent(target.externalId)}`);
    expect(filtered.body).toEqual({ items: [target], nextCursor: null });
    expect((await mine.get('/users?limit=500')).body.error.details).toEqual([
      { path: 'limit', message: 'must be at most 200' },
    ]);
  });

  test("another account's user is a 404 for read, replace, patch and delete", async () => {
    const user = (await acct.post('/users', jane())).body;
    for (const res of await Promise.all([
      other.get(`/users/${user.id}`),
      other.put(`/users/${user.id}`, jane()),
      other.patch(`/users/${user.id}`, { name: 'x' }),
      other.delete(`/users/${user.id}`),
    ])) {
      expectError(res, 404, 'not_found');
    }
    expect((await other.get('/users')).body.items.map((u: any) => u.id)).not.toContain(user.id);
    expect((await acct.get(`/users/${user.id}`)).body).toEqual(user);
  });

  test('odd ids are 404s, bodies of the wrong type 400s', async () => {
    expectError(await acct.get('/users/%00'), 404, 'not_found');
    expectError(await acct.get(`/users/${'x'.repeat(300)}`), 404, 'not_found');
    // Raw JSON texts: an array, a string, a number, null.
    for (const body of ['[]', '"x"', '1', 'null']) {
      const res = await acct.post('/users', body);
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details).toEqual([{ path: '(body)', message: 'must be an object' }]);
    }
  });
});

describe('email templates', () => {
  const body = {
    name: 'Job done',
    subject: 'Job {{job.number}} is done',
    text: 'Hi {{user.name}}',
    html: '<p>Hi {{user.name}}</p>',
  };

  test('PUT creates (201) then replaces (200); GET one and list; DELETE', async () => {
    const id = `job-done-${uniq()}`;
    const created = await acct.put(`/templates/${id}`, body);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id,
      ...body,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    const replaced = await acct.put(`/templates/${id}`, {
      name: 'Job done v2',
      subject: 'Done',
      text: 'Plain',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      id,
      name: 'Job done v2',
      subject: 'Done',
      text: 'Plain',
      html: null,
    });
    expect(replaced.body.createdAt).toBe(created.body.createdAt);

    expect((await acct.get(`/templates/${id}`)).body).toEqual(replaced.body);
    const list = await acct.get('/templates?limit=200');
    expect(list.body.items.map((t: any) => t.id)).toContain(id);
    expect(list.body.nextCursor).toBeNull();

    expect((await acct.delete(`/templates/${id}`)).status).toBe(204);
    expectError(await acct.get(`/templates/${id}`), 404, 'not_found');
    expectError(await acct.delete(`/templates/${id}`), 404, 'not_found');
  });

  test('list pages never skip or repeat with inserts between pages', async () => {
    const mine = await stack.account('Template pages');
    const ids = ['t-a', 't-b', 't-c'];
    for (const id of ids) await mine.put(`/templates/${id}`, body);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: any } = await mine.get(`/templates?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.items.map((t: any) => t.id));
      cursor = res.body.nextCursor;
      if (++pages === 1) {
        await mine.put('/templates/t-late', body);
        ids.push('t-late');
      }
    } while (cursor);
    expect(seen).toEqual(ids);
  });

  test.each([
    ['name missing', { ...body, name: undefined }, 'name', 'required'],
    ['subject empty', { ...body, subject: '' }, 'subject', 'must not be empty'],
    ['neither text nor html', { name: 'x', subject: 'y' }, 'text', 'text or html required'],
    [
      'text does not parse',
      { ...body, text: 'Hi {{user.name' },
      'text',
      /^template does not parse: unbalanced/,
    ],
    [
      'html with an expression',
      { ...body, html: '<p>{{ user.name | upper }}</p>' },
      'html',
      /is not a value reference/,
    ],
    [
      'subject through a prototype',
      { ...body, subject: '{{job.constructor}}' },
      'subject',
      /must not name __proto__, prototype or constructor/,
    ],
    ['unknown field', { ...body, layout: 'x' }, 'layout', 'unknown field'],
  ])('validation: %s', async (_label, input, path, message) => {
    const res = await acct.put('/templates/valid-slug', input);
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details).toContainEqual({
      path,
      message: typeof message === 'string' ? message : expect.stringMatching(message),
    });
  });

  test('the id is a slug', async () => {
    for (const id of ['Upper', 'with_underscore', '-leading', 'x'.repeat(101), 'sp%20ace']) {
      const res = await acct.put(`/templates/${id}`, body);
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details[0].path).toBe('id');
    }
    expectError(await acct.get('/templates/Not_A_Slug'), 404, 'not_found');
  });

  test('DELETE is refused (409, naming the rules) while a rule uses the template, allowed after', async () => {
    const id = `in-use-${uniq()}`;
    await acct.put(`/templates/${id}`, body);
    const rule = await acct.post('/rules', {
      name: 'Uses the template',
      trigger: { eventName: 'job.done' },
      actions: [
        { type: 'sms', params: { recipient: '+15551234567', message: 'x' } },
        { type: 'email', params: { recipient: 'a@b.co', templateId: id } },
      ],
    });
    expect(rule.status).toBe(201);
    const disabled = await acct.post('/rules', {
      name: 'Disabled, still uses it',
      enabled: false,
      trigger: { eventName: 'job.done' },
      actions: [{ type: 'email', params: { recipient: 'a@b.co', templateId: id, subject: 'own subject' } }],
    });
    const refused = await acct.delete(`/templates/${id}`);
    expectError(refused, 409, 'conflict');
    expect(refused.body.error.message).toContain(rule.body.id);
    expect(refused.body.error.details).toEqual([
      {
        path: `rules.${rule.body.id}.actions[1].params.templateId`,
        message: `used by rule ${rule.body.id} ("Uses the template")`,
      },
      {
        path: `rules.${disabled.body.id}.actions[0].params.templateId`,
        message: `used by rule ${disabled.body.id} ("Disabled, still uses it")`,
      },
    ]);
    expect((await acct.get(`/templates/${id}`)).status).toBe(200);

    expect((await acct.delete(`/rules/${rule.body.id}`)).status).toBe(204);
    expect(
      (
        await acct.patch(`/rules/${disabled.body.id}`, {
          actions: [{ type: 'email', params: { recipient: 'a@b.co', subject: 's', text: 'inline now' } }],
        })
      ).status,
    ).toBe(200);
    expect((await acct.delete(`/templates/${id}`)).status).toBe(204);
  });

  test('templates are per account: same slug, separate templates; no cross-account access', async () => {
    const id = `shared-slug-${uniq()}`;
    expect((await acct.put(`/templates/${id}`, body)).status).toBe(201);
    expectError(await other.get(`/templates/${id}`), 404, 'not_found');
    expectError(await other.delete(`/templates/${id}`), 404, 'not_found');
    expect((await other.get('/templates')).body.items.map((t: any) => t.id)).not.toContain(id);
    // The other account's PUT creates its own template and leaves this one alone.
    const theirs = await other.put(`/templates/${id}`, { ...body, name: 'Theirs' });
    expect(theirs.status).toBe(201);
    expect((await acct.get(`/templates/${id}`)).body.name).toBe(body.name);
  });

  test('wrong body types and odd slugs never 500', async () => {
    for (const b of [[], 'x', 1, null, { name: [], subject: {}, text: 1 }]) {
      expect((await acct.put('/templates/odd', b)).status).toBe(400);
    }
    for (const path of ['/templates/%00', '/templates/%E0%A4%A', `/templates/${'a'.repeat(5000)}`]) {
      expect([400, 404]).toContain((await acct.get(path)).status);
    }
  });
});
