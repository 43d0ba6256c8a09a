/** The web app's mapping between our condition trees and react-querybuilder's queries (web/src/conditions.ts). */
import {
  factPathOf,
  fieldOf,
  fromQuery,
  OPERATORS as UI_OPERATORS,
  textToValue,
  toQuery,
  valueToText,
  type ConditionTree,
  type QueryGroup,
} from '../../web/src/conditions';
import { OPERATORS, treeSchema } from '../../src/shared/schemas';

const c = (fact: string, path: string | undefined, operator: string, value: any) => ({
  fact,
  ...(path !== undefined && { path }),
  operator,
  value,
});

/** The API's schema accepts it, and the mapping gives back exactly what it was given. */
function roundTrips(tree: ConditionTree) {
  expect(treeSchema.safeParse(tree).success).toBe(true);
  const query = toQuery(tree);
  // As react-querybuilder keeps it: its own ids on every rule and group (ignored on the way back).
  const withIds = JSON.parse(JSON.stringify(query), (k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && ('rules' in v || 'field' in v)
      ? { id: `id-${Math.random()}`, ...v }
      : v,
  ) as QueryGroup;
  expect(fromQuery(withIds)).toEqual(tree);
}

test('the UI offers exactly the operators the API takes', () => {
  expect(UI_OPERATORS.map((o) => o.name)).toEqual([...OPERATORS]);
});

test('every operator with the value types it takes round-trips', () => {
  const values: Record<string, unknown[]> = {
    equal: ['Done', 2500, 0.5, true, false, null, ''],
    notEqual: [null, 'Void'],
    lessThan: [10],
    lessThanInclusive: [-3],
    greaterThan: [1e6],
    greaterThanInclusive: [0],
    in: [['a', 'b'], [1, 2, null], [true]],
    notIn: [['Void', 'Cancelled'], []],
    contains: ['vip', 3],
    doesNotContain: ['spam'],
  };
  for (const op of OPERATORS) for (const v of values[op]) roundTrips({ all: [c('job', '$.status', op, v)] });
});

test('facts and paths: no path, $, dotted, quoted names, indexes, the event and user facts', () => {
  const paths: [string, string | undefined, string][] = [
    ['job', undefined, 'job'],
    ['job', '$', 'job$'],
    ['job', '$.status', 'job.status'],
    ['job', '$.client.phone', 'job.client.phone'],
    ['job', "$['job-id']", "job['job-id']"],
    ['job', "$.client['first name']", "job.client['first name']"],
    ['job', '$.items[0].sku', 'job.items[0].sku'],
    ['job', '$.items[-1]', 'job.items[-1]'],
    ['event', '$.name', 'event.name'],
    ['user', '$.attributes.tier', 'user.attributes.tier'],
    ['_x1', '$.a', '_x1.a'],
  ];
  for (const [fact, path, field] of paths) {
    expect(fieldOf(fact, path)).toBe(field);
    expect(factPathOf(field)).toEqual({ fact, ...(path !== undefined && { path }) });
    roundTrips({ any: [c(fact, path, 'equal', 'x')] });
  }
});

test('all / any / not nesting, empty groups and not around a condition or a not', () => {
  const a = c('job', '$.status', 'equal', 'Done');
  const b = c('job', '$.total', 'greaterThan', 100);
  const d = c('user', '$.email', 'notEqual', null);
  const trees: ConditionTree[] = [
    { all: [] },
    { any: [] },
    { all: [a, b] },
    { any: [a, { all: [b, d] }] },
    { not: { all: [a, b] } },
    { not: { any: [a] } },
    { not: a },
    { not: { not: a } },
    { all: [{ not: b }, { any: [{ not: { all: [a, d] } }, { all: [] }] }] },
    { any: [{ all: [{ any: [{ all: [a] }] }] }] },
  ];
  for (const t of trees) roundTrips(t);
  // The query builder's shape, as its editor shows it.
  expect(toQuery({ any: [a, { not: { all: [b] } }] })).toEqual({
    combinator: 'or',
    rules: [
      { field: 'job.status', operator: 'equal', value: 'Done' },
      { combinator: 'and', not: true, rules: [{ field: 'job.total', operator: 'greaterThan', value: 100 }] },
    ],
  });
});

test('a group made in the editor (no bareNot marker, more rules) becomes all/any under not', () => {
  const q: QueryGroup = {
    combinator: 'and',
    not: true,
    bareNot: true,
    rules: [
      { field: 'job.a', operator: 'equal', value: 1 },
      { field: 'job.b', operator: 'equal', value: 2 },
    ],
  };
  expect(fromQuery(q)).toEqual({ not: { all: [c('job', '$.a', 'equal', 1), c('job', '$.b', 'equal', 2)] } });
  expect(fromQuery({ combinator: 'or', not: true, rules: [] })).toEqual({ not: { any: [] } });
});

test('the value box: text stays text, JSON reads as its value, and each shows back as typed', () => {
  expect(textToValue('Done')).toBe('Done');
  expect(textToValue('2500')).toBe(2500);
  expect(textToValue('"2500"')).toBe('2500');
  expect(textToValue('true')).toBe(true);
  expect(textToValue('null')).toBeNull();
  expect(textToValue('["a", 1, null]')).toEqual(['a', 1, null]);
  expect(textToValue('{"a": 1}')).toBe('{"a": 1}'); // objects are not condition values: text
  expect(textToValue('')).toBe('');
  expect(valueToText('Done')).toBe('Done');
  expect(valueToText('2500')).toBe('"2500"');
  for (const v of ['Done', '2500', 'true', 'null', '"q"', '', ' x ', 0, -1.5, true, null, ['a', 2], []])
    expect(textToValue(valueToText(v as any))).toEqual(v);
});
