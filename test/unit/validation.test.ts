/** The schemas and the validation module's messages: pure code, no servers. */
import { ApiError } from '../../src/shared/errors';
import {
  actionSchema,
  conditionDepth,
  delayMs,
  dryRunSchema,
  eventSchema,
  isTimeZone,
  ruleBodySchema,
  rulePatchSchema,
  templateBodySchema,
  templateIdSchema,
  userBodySchema,
  userPatchSchema,
} from '../../src/shared/schemas';
import { jsonProblem, MAX_JSON_DEPTH, parseOrThrow, prefixDetails } from '../../src/services/validation';

function details(schema: Parameters<typeof parseOrThrow>[0], input: unknown) {
  try {
    parseOrThrow(schema, input);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).code).toBe('validation_failed');
    return (err as ApiError).details;
  }
  throw new Error('expected a validation error');
}

const rule = (over: Record<string, unknown> = {}) => ({
  name: 'r',
  trigger: { eventName: 'job.created' },
  actions: [{ type: 'sms', params: { recipient: '+15551234567', message: 'Hi {{user.name}}' } }],
  ...over,
});

describe('ruleBodySchema', () => {
  test('defaults: enabled, no delay, no conditions; webhook method POST and empty payload', () => {
    expect(parseOrThrow(ruleBodySchema, rule())).toMatchObject({
      enabled: true,
      delay: { value: 0, unit: 'minutes' },
      conditions: { all: [] },
    });
    const hook = parseOrThrow(
      ruleBodySchema,
      rule({ actions: [{ type: 'webhook', params: { url: 'https://x.io' } }] }),
    );
    expect(hook.actions[0]).toEqual({
      type: 'webhook',
      params: { url: 'https://x.io', method: 'POST', payload: {} },
    });
  });

  test("fields the API sets (and a seed document's _id, accountId) are accepted back, not refused", () => {
    // Storing ignores them: the e2e tests check that the stored account is the key's.
    expect(() =>
      parseOrThrow(
        ruleBodySchema,
        rule({ id: 'x', _id: 'y', accountId: 'acc_other', version: 9, createdAt: 1 }),
      ),
    ).not.toThrow();
    expect(details(ruleBodySchema, rule({ ownerId: 'x' }))).toEqual([
      { path: 'ownerId', message: 'unknown field' },
    ]);
  });

  test('messages name the field', () => {
    expect(details(ruleBodySchema, rule({ name: '' }))).toEqual([
      { path: 'name', message: 'must not be empty' },
    ]);
    expect(details(ruleBodySchema, { ...rule(), actions: undefined })).toEqual([
      { path: 'actions', message: 'required' },
    ]);
    expect(details(ruleBodySchema, rule({ actions: [{ type: 'sms', params: { message: 'x' } }] }))).toEqual([
      { path: 'actions[0].params.recipient', message: 'required' },
    ]);
    expect(details(ruleBodySchema, rule({ delay: { value: 2, unit: 'weeks' } }))).toEqual([
      { path: 'delay.unit', message: 'must be one of seconds, minutes, hours, days' },
    ]);
    expect(
      details(ruleBodySchema, rule({ trigger: { eventName: 'x', schedule: { cron: '* * * * *' } } })),
    ).toEqual([{ path: 'trigger.schedule', message: 'unknown field' }]);
    expect(
      details(ruleBodySchema, rule({ actions: [{ type: 'sms', params: { recipient: 7, message: 'x' } }] })),
    ).toEqual([{ path: 'actions[0].params.recipient', message: 'must be a string or an object' }]);
    expect(details(ruleBodySchema, rule({ actions: [{ params: {} }] }))).toEqual([
      { path: 'actions[0].type', message: 'required: one of sms, email, webhook' },
    ]);
    expect(details(ruleBodySchema, rule({ conditions: { all: [{}] } }))).toEqual([
      { path: 'conditions.all[0].fact', message: 'required' },
      { path: 'conditions.all[0].operator', message: 'required' },
      { path: 'conditions.all[0].value', message: 'required' },
    ]);
    expect(
      details(
        ruleBodySchema,
        rule({ conditions: { any: [{ all: [{ fact: 'a', operator: 'eq', value: 1 }] }] } }),
      ),
    ).toEqual([
      {
        path: 'conditions.any[0].all[0].operator',
        message: expect.stringMatching(/^must be one of equal, /),
      },
    ]);
    expect(details(ruleBodySchema, rule({ delay: { value: 1e300, unit: 'days' } }))).toContainEqual({
      path: 'delay.value',
      message: 'must be a safe integer',
    });
  });

  test('a schedule trigger: five-field cron, IANA zone (UTC by default)', () => {
    expect(
      parseOrThrow(ruleBodySchema, rule({ trigger: { schedule: { cron: '0 9 * * MON' } } })).trigger,
    ).toEqual({
      schedule: { cron: '0 9 * * MON', timezone: 'UTC' },
    });
    expect(details(ruleBodySchema, rule({ trigger: { schedule: { cron: '0 9 * *' } } }))[0]).toEqual({
      path: 'trigger.schedule.cron',
      message: 'must be a five-field cron expression such as "0 9 * * MON"',
    });
    expect(
      details(ruleBodySchema, rule({ trigger: { schedule: { cron: '0 25 * * *' } } }))[0].message,
    ).toMatch(/^is not a valid cron expression/);
  });

  test('delays up to 365 days', () => {
    expect(delayMs({ value: 365, unit: 'days' })).toBe(365 * 86_400_000);
    expect(
      parseOrThrow(ruleBodySchema, rule({ delay: { value: 31_536_000, unit: 'seconds' } })).delay,
    ).toEqual({ value: 31_536_000, unit: 'seconds' });
    expect(details(ruleBodySchema, rule({ delay: { value: 31_536_001, unit: 'seconds' } }))).toEqual([
      { path: 'delay.value', message: 'must be at most 365 days' },
    ]);
  });

  test('condition depth', () => {
    const leaf = { fact: 'job', operator: 'equal' as const, value: 1 };
    expect(conditionDepth(leaf)).toBe(0);
    expect(conditionDepth({ all: [leaf, { any: [{ not: leaf }] }] })).toBe(3);
    let five: any = leaf;
    for (let i = 0; i < 5; i++) five = { all: [five] };
    expect(parseOrThrow(ruleBodySchema, rule({ conditions: five })).conditions).toEqual(five);
    expect(details(ruleBodySchema, rule({ conditions: { not: five } }))).toEqual([
      { path: 'conditions', message: 'nesting deeper than 5 levels' },
    ]);
  });

  test('the patch schema takes any subset and checks each field as the body does', () => {
    expect(parseOrThrow(rulePatchSchema, { enabled: false })).toEqual({ enabled: false });
    expect(parseOrThrow(rulePatchSchema, {})).toEqual({});
    expect(details(rulePatchSchema, { enabled: 'no' })).toEqual([
      { path: 'enabled', message: 'must be a boolean' },
    ]);
    expect(details(rulePatchSchema, { actions: [] })).toEqual([
      { path: 'actions', message: 'must have at least one item' },
    ]);
  });
});

describe('actions', () => {
  test.each([
    [{ type: 'sms', params: { recipient: { source: 'user', field: 'phone' }, message: 'x' } }],
    [
      {
        type: 'sms',
        params: { recipient: { source: 'fact', fact: 'job', path: '$.tech.phone' }, message: 'x' },
      },
    ],
    [{ type: 'email', params: { recipient: 'a@b.co', templateId: 'tpl-1' } }],
    [
      {
        type: 'email',
        params: { recipient: { source: 'user', field: 'email' }, subject: 's', html: '<b>{{x}}</b>' },
      },
    ],
    [
      {
        type: 'webhook',
        params: { url: 'http://example.com:8080/a?b=c', method: 'PUT', payload: { a: ['{{job.x}}', 1] } },
      },
    ],
  ])('valid: %j', (action) => {
    expect(actionSchema.safeParse(action).success).toBe(true);
  });

  test.each([
    [{ type: 'sms', params: { recipient: '+0123456789', message: 'x' } }],
    [{ type: 'sms', params: { recipient: '+1555', message: 'x' } }],
    [{ type: 'sms', params: { recipient: '+15551234567', message: 'x', extra: 1 } }],
    [{ type: 'email', params: { recipient: 'a@b', subject: 's', text: 't' } }],
    [{ type: 'email', params: { recipient: 'a@b.co', subject: 's' } }],
    [{ type: 'email', params: { recipient: { source: 'user', field: 'phone' }, templateId: 'UPPER' } }],
    [{ type: 'webhook', params: { url: 'javascript:alert(1)' } }],
    [{ type: 'webhook', params: { url: 'gopher://x.io' } }],
    [{ type: 'webhook', params: { url: 'https://x.io', payload: [] } }],
    [{ type: 'webhook', params: { url: 'https://x.io', payload: { a: 'x'.repeat(70_000) } } }],
    [{ type: 'fax', params: {} }],
  ])('invalid: %j', (action) => {
    expect(actionSchema.safeParse(action).success).toBe(false);
  });
});

describe('users, templates, events', () => {
  test('users', () => {
    expect(parseOrThrow(userBodySchema, {})).toEqual({ attributes: {} });
    expect(parseOrThrow(userPatchSchema, { name: null })).toEqual({ name: null });
    expect(details(userBodySchema, { attributes: { x: 'y'.repeat(16_400) } })).toEqual([
      { path: 'attributes', message: 'must be at most 16 KB as JSON' },
    ]);
    expect(details(userBodySchema, { phone: '+1 555 123 4567' })).toEqual([
      { path: 'phone', message: 'must be an E.164 phone number such as +15551234567' },
    ]);
  });

  test('time zones are IANA names', () => {
    for (const tz of [
      'UTC',
      'America/Chicago',
      'Europe/London',
      'Asia/Kolkata',
      'America/Argentina/Buenos_Aires',
      'US/Pacific',
      'Etc/GMT+5',
    ]) {
      expect([tz, isTimeZone(tz)]).toEqual([tz, true]);
    }
    for (const tz of [
      '',
      'Mars/Base',
      '+01:00',
      'UTC+1',
      'America/Chicago ',
      '../etc/passwd',
      'x'.repeat(100),
      // Node's Intl takes these; the Temporal server's tz database does not (a Schedule would fail).
      'US/Pacific-New',
      'SystemV/AST4',
      'PST',
      'america/chicago',
      'utc',
    ]) {
      expect([tz, isTimeZone(tz)]).toEqual([tz, false]);
    }
  });

  test('templates and their ids', () => {
    expect(parseOrThrow(templateBodySchema, { name: 'n', subject: 's', html: '<p>{{x}}</p>' })).toMatchObject(
      {
        html: '<p>{{x}}</p>',
      },
    );
    expect(details(templateBodySchema, { name: 'n', subject: 's {{x', text: 't' })).toEqual([
      { path: 'subject', message: expect.stringMatching(/^template does not parse/) },
    ]);
    expect(templateIdSchema.safeParse('new-high-value-job-template').success).toBe(true);
    for (const bad of ['', 'A', 'a_b', '-a', 'a'.repeat(101), 'a/b', 'é']) {
      expect([bad, templateIdSchema.safeParse(bad).success]).toEqual([bad, false]);
    }
  });

  test('events and dry-run events', () => {
    expect(parseOrThrow(eventSchema, { name: 'job.created', payload: {} })).toEqual({
      name: 'job.created',
      payload: {},
    });
    expect(details(eventSchema, { id: 'has space', name: 'job.created', payload: {} })).toEqual([
      { path: 'id', message: 'must be 1-128 of A-Z a-z 0-9 . _ : -' },
    ]);
    expect(details(eventSchema, { name: 'job.created', payload: {}, accountId: 'acc_x' })).toEqual([
      { path: 'accountId', message: 'comes from the API key and must not be sent' },
    ]);
    expect(details(dryRunSchema, { event: { name: 'a', payload: {}, occurredAt: 'yesterday' } })).toEqual([
      { path: 'event.occurredAt', message: expect.any(String) },
    ]);
  });
});

describe('input no schema should see', () => {
  test('deep nesting is refused before any recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonProblem(deep)).toEqual({
      path: expect.stringMatching(/^\[0\]/),
      message: `nested deeper than ${MAX_JSON_DEPTH} levels`,
    });
    expect(details(userBodySchema, { attributes: { a: deep } })[0].message).toBe(
      `nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
    let ok: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH - 1; i++) ok = [ok];
    expect(jsonProblem(ok)).toBeNull();
  });

  test('NUL characters, unpaired surrogates and __proto__ keys', () => {
    expect(jsonProblem({ a: ['ok', 'b\u0000'] })).toEqual({
      path: 'a[1]',
      message: 'must not contain NUL characters or unpaired surrogates',
    });
    expect(jsonProblem({ a: '\udc00' })).not.toBeNull();
    expect(jsonProblem({ ['k\ud800']: 1 })).not.toBeNull();
    expect(jsonProblem({ emoji: '🚀 名前 \u202e' })).toBeNull();
    expect(jsonProblem(JSON.parse('{"a": {"__proto__": {"x": 1}}}'))).toEqual({
      path: 'a.__proto__',
      message: 'the key __proto__ is not allowed',
    });
  });

  test('prefixDetails moves a nested body under its field', () => {
    const err = ApiError.validation([
      { path: 'actions[0].type', message: 'x' },
      { path: '(body)', message: 'must be an object' },
    ]);
    expect((prefixDetails(err, 'rule') as ApiError).details).toEqual([
      { path: 'rule.actions[0].type', message: 'x' },
      { path: 'rule', message: 'must be an object' },
    ]);
    const other = new Error('x');
    expect(prefixDetails(other, 'rule')).toBe(other);
  });
});

describe('reminder fields: until delays, trigger.key, updateOn/cancelOn, windows', () => {
  const reminder = {
    trigger: {
      eventName: 'job.created',
      key: { fact: 'job', path: '$.id' },
      updateOn: ['job.rescheduled'],
      cancelOn: [
        { eventName: 'job.cancelled' },
        {
          eventName: 'job.status.changed',
          conditions: { all: [{ fact: 'job', path: '$.status', operator: 'equal', value: 'void' }] },
        },
      ],
    },
    delay: { until: { fact: 'job', path: '$.scheduledAt' }, offset: { value: -24, unit: 'hours' } },
    window: { days: ['mon', 'tue'], start: '21:00', end: '07:00', timezone: 'America/New_York' },
  };

  test('the reminder example parses, with ifPast defaulting to skip', () => {
    expect(parseOrThrow(ruleBodySchema, rule(reminder))).toMatchObject({
      delay: { until: { fact: 'job', path: '$.scheduledAt' }, offset: { value: -24 }, ifPast: 'skip' },
      window: { start: '21:00', end: '07:00' },
    });
    expect(parseOrThrow(ruleBodySchema, rule({ window: { start: '08:00', end: '20:00' } })).window).toEqual({
      days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
      start: '08:00',
      end: '20:00',
      timezone: 'user',
    });
  });

  test('each bad field is named', () => {
    expect(
      details(
        ruleBodySchema,
        rule({
          trigger: {
            eventName: 'job.created',
            updateOn: ['job.rescheduled'],
            cancelOn: [{ eventName: 'x.y' }],
          },
          delay: { until: { fact: 'job' }, ifPast: 'later' },
          window: { days: ['funday'], start: '8:00', end: '24:00', timezone: 'US/Pacific-New' },
        }),
      ),
    ).toEqual(
      expect.arrayContaining([
        { path: 'trigger.updateOn', message: 'needs trigger.key' },
        { path: 'trigger.cancelOn', message: 'needs trigger.key' },
        { path: 'delay.until.path', message: 'required' },
        { path: 'delay.ifPast', message: 'must be one of skip, sendNow' },
        { path: 'window.days[0]', message: expect.stringContaining('must be one of sun') },
        { path: 'window.start', message: 'must be a time HH:MM such as 08:00' },
        { path: 'window.end', message: 'must be a time HH:MM such as 08:00' },
        { path: 'window.timezone', message: expect.stringContaining('IANA time zone') },
      ]),
    );
    expect(
      details(
        ruleBodySchema,
        rule({ trigger: { schedule: { cron: '0 9 * * MON' } }, delay: reminder.delay }),
      ),
    ).toEqual([{ path: 'delay.until', message: 'needs an event trigger: a schedule has no event' }]);
  });
});
