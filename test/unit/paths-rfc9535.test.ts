/** Paths as RFC 9535 specifies them: quoted names, escapes, the forms it forbids, and the hints. */
import {
  dollarForm,
  formatSegments,
  missingDollarMessage,
  parsePath,
  parseStoredPath,
  pathProblem,
  resolvePath,
} from '../../src/shared/paths';
import { parseTemplate, renderTemplate, TemplateError } from '../../src/shared/templates';
import { conditionSchema } from '../../src/shared/schemas';

describe('quoted member names', () => {
  test.each([
    ["$['job-id']", ['job-id']],
    ["$.client['first name']", ['client', 'first name']],
    ['$.client["first name"]', ['client', 'first name']],
    ["$[ 'a' ][ 0 ]", ['a', 0]],
    ["$['it\\'s']", ["it's"]],
    ['$["say \\"hi\\""]', ['say "hi"']],
    ["$['a\"b']", ['a"b']],
    ['$["a\'b"]', ["a'b"]],
    ["$['tab\\there']", ['tab\there']],
    ["$['\\u00e9t\\u00e9']", ['été']],
    ["$['\\uD83D\\uDE00']", ['😀']],
    ["$['$.not.evaluated']", ['$.not.evaluated']],
    ["$['']", ['']],
    ['$.été', ['été']],
  ])('%s parses to %j', (path, segments) => {
    expect(parsePath(path)).toEqual(segments);
  });

  test('a quoted name is read literally', () => {
    const job = { 'job-id': 'J-9', client: { 'first name': 'Ann' }, 'a.b': 1, items: ['x', 'y', 'z'] };
    expect(resolvePath(job, "$['job-id']")).toBe('J-9');
    expect(resolvePath(job, '$.client["first name"]')).toBe('Ann');
    expect(resolvePath(job, "$['a.b']")).toBe(1);
    expect(resolvePath(job, '$.items[-1]')).toBe('z');
    expect(resolvePath(job, '$.items[-4]')).toBeUndefined();
  });
});

describe('forms RFC 9535 forbids are refused, with the form to write', () => {
  test.each([
    ['$.items[01]', /leading zero.*write \[1\]/],
    ['$.items[-01]', /leading zero/],
    ['$.items[-0]', /-0/],
    ['$.job-id', /needs quotes.*write \$\['job-id'\]/],
    ['$.a.first-name.b', /write \$\.a\['first-name'\]\.b/],
    ["$['a\\q']", /not an escape/],
    ["$['a\\\"']", /not an escape/],
    ["$['open", /not closed/],
    ["$['\\uDE00']", /lone low surrogate/],
    ["$['\\uD83Dx']", /low one/],
    ["$['\\u12']", /four hex digits/],
    ["$['a\u0001']", /control characters/],
    ["$['__proto__']", /__proto__/],
    ["$['a','b']", /unions/],
    ['$.a[0:1]', /slices/],
    ['$[*]', /wildcards/],
    ['$..a', /recursive descent/],
    ['$.a ', /unexpected/],
  ])('%s', (path, reason) => {
    expect(parsePath(path)).toBeNull();
    expect(pathProblem(path)).toMatch(reason);
  });

  test('rules saved before still read the pre-RFC forms', () => {
    expect(parseStoredPath('$.job-id')).toEqual(['job-id']);
    expect(parseStoredPath('$.items[01]')).toEqual(['items', 1]);
    expect(resolvePath({ 'job-id': 7 }, '$.job-id')).toBe(7);
    expect(parseStoredPath('$.items[-01]')).toBeNull();
  });
});

describe('the "must start with $" hint shows the right form for the fact', () => {
  test.each([
    ['total', 'job', '$.total'],
    ['job.total', 'job', '$.total'],
    ['.total', 'job', '$.total'],
    ['client.phone', 'job', '$.client.phone'],
    ['first name', 'job', "$['first name']"],
    ['job', 'job', '$'],
  ])('%s on fact %s → %s', (path, fact, right) => {
    expect(dollarForm(path, fact)).toBe(right);
    expect(missingDollarMessage(path, fact)).toBe(`path "${path}" on fact ${fact}: write "${right}"`);
  });

  test('in a condition it names the fact', () => {
    const r = conditionSchema.safeParse({ fact: 'job', path: 'total', operator: 'equal', value: 1 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message)).toEqual(['path "total" on fact job: write "$.total"']);
  });

  test('formatSegments quotes what shorthand cannot hold', () => {
    expect(formatSegments(['job', 'first name', 0, "it's", 'a\nb'])).toBe(
      "$.job['first name'][0]['it\\'s']['a\\nb']",
    );
    for (const p of ["$['it\\'s']", "$.a['x y'][2]", '$.a.b']) expect(formatSegments(parsePath(p)!)).toBe(p);
  });
});

describe('templates with quoted names', () => {
  const facts = { job: { 'first name': 'Ann', 'job-id': 'J-1', items: [{ name: 'pump' }] } };

  test('render', () => {
    expect(
      renderTemplate('Hi {{job[\'first name\']}}, {{job["job-id"]}}: {{job.items[0].name}}', facts),
    ).toBe('Hi Ann, J-1: pump');
  });

  test('refused forms name the problem in template form', () => {
    expect(() => parseTemplate('{{job.job-id}}', true)).toThrow(TemplateError);
    expect(() => parseTemplate('{{job.job-id}}', true)).toThrow(/write job\['job-id'\]/);
    expect(() => parseTemplate('{{job.items[01]}}', true)).toThrow(/leading zero/);
    // Saved before RFC 9535: still renders.
    expect(renderTemplate('{{job.job-id}}', facts)).toBe('J-1');
  });
});
