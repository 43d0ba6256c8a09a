/** The safe path resolver, templates and condition evaluation: pure code, no servers. */
import { evaluateConditions } from '../../src/shared/conditions';
import { factValue, parsePath, pathProblem, resolvePath, resolveSegments } from '../../src/shared/paths';
import {
  escapeHtml,
  jsonStrings,
  parseTemplate,
  renderJson,
  renderTemplate,
  TemplateError,
  templateFacts,
} from '../../src/shared/templates';

describe('parsePath: the RFC 9535 subset', () => {
  test.each([
    ['$', []],
    ['$.a', ['a']],
    ['$.a.b[0].c', ['a', 'b', 0, 'c']],
    ['$[2]', [2]],
    ['$.assignedTechnician.phone', ['assignedTechnician', 'phone']],
    ['$.with_underscore_and_1', ['with_underscore_and_1']],
    ["$['a']", ['a']],
    ['$["a"]', ['a']],
    ['$.a[-1]', ['a', -1]],
  ])('%s parses', (path, segments) => {
    expect(parsePath(path)).toEqual(segments);
    expect(pathProblem(path)).toBeNull();
  });

  test.each([
    '$..x',
    '$..*',
    '$.a..b',
    '$[?(@.a)]',
    '$.items[?(@.price < 10)]',
    '$.with-dash',
    '$.a[*]',
    '$.*',
    '$[(@.length-1)]',
    '$.a[0:2]',
    '$.a[0,1]',
    'a.b',
    '',
    '$.',
    '$.a.',
    '$a',
    '@.a',
    '$.a b',
    '$.constructor',
    '$.__proto__',
    '$.a.prototype',
    '$.a.__proto__.polluted',
    '$.1a',
    '$[1234567]',
    '$' + '.a'.repeat(33),
    '$.a;process.exit()',
    '$.a[0]()',
  ])('%s is refused', (path) => {
    expect(parsePath(path)).toBeNull();
    expect(pathProblem(path)).toEqual(expect.any(String));
  });

  test('the reasons name the problem', () => {
    expect(pathProblem('status')).toBe('must start with $, as in $.job.status');
    expect(pathProblem('$..status')).toMatch(/recursive descent/);
    expect(pathProblem('$[?(@.a)]')).toMatch(/filters, scripts/);
    expect(pathProblem('$.__proto__.x')).toBe('must not name __proto__, prototype or constructor');
  });
});

describe('resolvePath: own data only', () => {
  const job = { a: { b: [{ c: 1 }, { c: null }] }, s: 'str', list: [10, 20] };

  test('reads values', () => {
    expect(resolvePath(job, '$.a.b[0].c')).toBe(1);
    expect(resolvePath(job, '$.a.b[1].c')).toBeNull();
    expect(resolvePath(job, '$.list[1]')).toBe(20);
    expect(resolvePath(job, '$')).toBe(job);
  });

  test('missing, mistyped and out-of-grammar paths read undefined', () => {
    expect(resolvePath(job, '$.a.x.y')).toBeUndefined();
    expect(resolvePath(job, '$.s.length')).toBeUndefined();
    expect(resolvePath(job, '$.a[0]')).toBeUndefined();
    expect(resolvePath(job, '$.list.x')).toBeUndefined();
    expect(resolvePath(job, '$..c')).toBeUndefined();
    expect(resolvePath(null, '$.a')).toBeUndefined();
    expect(resolvePath('string', '$.a')).toBeUndefined();
  });

  test('never reads a prototype', () => {
    expect(resolvePath({}, '$.constructor')).toBeUndefined();
    expect(resolvePath({}, '$.toString')).toBeUndefined();
    expect(resolvePath({}, '$.hasOwnProperty')).toBeUndefined();
    expect(resolveSegments({}, ['__proto__'])).toBeUndefined();
    expect(resolveSegments({}, ['constructor', 'prototype'])).toBeUndefined();
    // Even an own `__proto__` key (JSON.parse makes one) is not followed.
    const parsed = JSON.parse('{"__proto__": {"secret": 1}, "constructor": {"name": "x"}}');
    expect(resolveSegments(parsed, ['__proto__', 'secret'])).toBeUndefined();
    expect(resolveSegments(parsed, ['constructor', 'name'])).toBeUndefined();
    const inherits = Object.create({ inherited: 'yes' });
    expect(resolvePath(inherits, '$.inherited')).toBeUndefined();
  });

  test('factValue reads own facts only', () => {
    expect(factValue({ job: 1 }, 'job')).toBe(1);
    expect(factValue({}, 'constructor')).toBeUndefined();
    expect(factValue({}, 'toString')).toBeUndefined();
    expect(factValue({}, '__proto__')).toBeUndefined();
  });
});

describe('templates', () => {
  const facts = {
    job: {
      number: 'J-1',
      total: 2500,
      done: true,
      client: { name: 'Ann & <Co> "quoted" \'s' },
      tags: ['a', 'b'],
    },
    user: { name: 'Jane' },
    nothing: null,
  };

  test('parse errors', () => {
    for (const t of [
      'Hi {{job.number',
      'Hi {{',
      '{{}}',
      '{{ }}',
      '{{job..number}}',
      '{{job.number | upper}}',
      '{{ process.exit(1) }}',
      '{{job["number]}}',
      "{{job['a\\q']}}",
      '{{$.job}}',
      '{{1job}}',
      '{{job.constructor}}',
      '{{__proto__.x}}',
      '{{constructor}}',
      '{{job.a{{b}}}}',
      `{{job${'.a'.repeat(40)}}}`,
    ]) {
      expect(() => parseTemplate(t, true)).toThrow(TemplateError);
    }
    expect(() => parseTemplate('Hi {{job.name')).toThrow(/unbalanced/);
    expect(() => parseTemplate('{{ process.exit(1) }}')).toThrow(/is not a value reference/);
  });

  test('placeholders parse in linear time (no catastrophic backtracking)', () => {
    const started = Date.now();
    expect(() => parseTemplate('{{' + ' '.repeat(200_000))).toThrow(TemplateError);
    expect(() => parseTemplate('{{ '.repeat(60_000))).toThrow(TemplateError);
    expect(parseTemplate('{{a}}'.repeat(20_000))).toHaveLength(20_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('renders values, missing ones as empty, objects as JSON', () => {
    expect(renderTemplate('Job #{{job.number}} for {{ job.client.name }}', facts)).toBe(
      'Job #J-1 for Ann & <Co> "quoted" \'s',
    );
    expect(
      renderTemplate('{{job.tags[1]}}/{{job.tags}}/{{job.missing}}/{{nothing}}/{{absent.x}}', facts),
    ).toBe('b/["a","b"]///');
    expect(renderTemplate('{{job.total}} {{job.done}}', facts)).toBe('2500 true');
    expect(renderTemplate('no placeholders', facts)).toBe('no placeholders');
    expect(renderTemplate('{a} }} {{{job.number}}}', facts)).toBe('{a} }} {J-1}');
  });

  test('values are substituted, never evaluated', () => {
    const evil = { job: { name: '{{user.name}} ${process.exit()} <script>' }, user: { name: 'X' } };
    expect(renderTemplate('{{job.name}}', evil)).toBe('{{user.name}} ${process.exit()} <script>');
  });

  test('HTML rendering escapes substituted values, not the template', () => {
    expect(renderTemplate('<p>{{job.client.name}}</p>', facts, { html: true })).toBe(
      '<p>Ann &amp; &lt;Co&gt; &quot;quoted&quot; &#39;s</p>',
    );
    expect(escapeHtml('<a href="x">&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });

  test('a JSON string that is a single placeholder keeps the value type', () => {
    const payload = {
      value: '{{job.total}}',
      spaced: '{{ job.done }}',
      obj: '{{job.client}}',
      list: ['{{job.tags}}', 'n={{job.total}}'],
      missing: '{{job.nope}}',
      text: 'Job {{job.number}}',
      literal: 42,
      nested: { deep: ['{{user.name}}'] },
    };
    expect(renderJson(payload, facts)).toEqual({
      value: 2500,
      spaced: true,
      obj: { name: 'Ann & <Co> "quoted" \'s' },
      list: [['a', 'b'], 'n=2500'],
      missing: null,
      text: 'Job J-1',
      literal: 42,
      nested: { deep: ['Jane'] },
    });
  });

  test('templateFacts and jsonStrings find what validation checks', () => {
    expect(templateFacts('{{job.a}} {{user.name}} {{event.id}}')).toEqual(['job', 'user', 'event']);
    expect(jsonStrings({ a: 'x', b: [{ c: 'y' }], d: 1 }, 'payload')).toEqual([
      { path: 'payload.a', text: 'x' },
      { path: 'payload.b[0].c', text: 'y' },
    ]);
  });
});

describe('conditions read values the way templates do', () => {
  const tree = (path: string | undefined, operator: string, value: unknown) =>
    ({ all: [{ fact: 'job', ...(path !== undefined && { path }), operator, value }] }) as never;

  test('a matching and a failing condition report their fact values', async () => {
    const result = await evaluateConditions(
      {
        all: [
          { fact: 'job', path: '$.status', operator: 'equal', value: 'Done' },
          { fact: 'job', path: '$.total', operator: 'greaterThan', value: 3000 },
        ],
      },
      { job: { status: 'Done', total: 2500 } },
    );
    expect(result).toEqual({
      matched: false,
      conditions: [
        { fact: 'job', path: '$.status', operator: 'equal', value: 'Done', factValue: 'Done', result: true },
        {
          fact: 'job',
          path: '$.total',
          operator: 'greaterThan',
          value: 3000,
          factValue: 2500,
          result: false,
        },
      ],
    });
  });

  test('a path into a non-object reads null, never the value itself', async () => {
    const r = await evaluateConditions(tree('$.status', 'equal', 'Done'), { job: 'Done' });
    expect(r.matched).toBe(false);
    expect(r.conditions[0].factValue).toBeNull();
  });

  test('a missing fact reads null, so notEqual null means "present"', async () => {
    expect((await evaluateConditions(tree('$.phone', 'notEqual', null), {})).matched).toBe(false);
    expect(
      (await evaluateConditions(tree('$.phone', 'notEqual', null), { job: { phone: '+1555' } })).matched,
    ).toBe(true);
  });

  test('no path compares the whole fact; prototype names read nothing', async () => {
    expect((await evaluateConditions(tree(undefined, 'equal', 5), { job: 5 })).matched).toBe(true);
    const r = await evaluateConditions(
      { all: [{ fact: 'toString', operator: 'equal', value: null }] } as never,
      { job: 1 },
    );
    expect(r.conditions[0].factValue).toBeNull();
  });

  test('any / not and short-circuited conditions', async () => {
    const r = await evaluateConditions(
      {
        any: [
          { fact: 'job', path: '$.a', operator: 'equal', value: 1 },
          { not: { fact: 'job', path: '$.b', operator: 'in', value: [1, 2] } },
        ],
      },
      { job: { a: 1, b: 3 } },
    );
    expect(r.matched).toBe(true);
    expect(r.conditions[0]).toMatchObject({ factValue: 1, result: true });
    expect(r.conditions).toHaveLength(2);
  });
});
