/**
 * The one mapping between our condition trees (json-rules-engine's shape: `{all|any: [...]}`,
 * `{not: node}`, conditions `{fact, path?, operator, value}`; src/shared/schemas.ts) and
 * react-querybuilder's query (groups `{combinator, not, rules}`, rules `{field, operator, value}`).
 * No DOM and no React here: test/unit/conditions.test.ts round-trips it under jest.
 *
 * - `all` ↔ combinator `and`, `any` ↔ `or`; `{not: {all|any}}` ↔ that group with `not: true`;
 *   `{not: X}` around a condition or another `not` ↔ a one-rule `and` group with `not: true` and
 *   `bareNot: true`, so the exact tree comes back.
 * - A rule's `field` is the fact followed by its path without `$`, as templates write it:
 *   `job.status`, `job['first name']`, `job.items[0]`; the fact alone (no path); `job$` for path `$`.
 * - A rule's `value` is the JSON value itself (string, number, boolean, null or an array of them).
 */

export type Scalar = string | number | boolean | null;
export type ConditionValue = Scalar | Scalar[];
export interface Condition {
  fact: string;
  path?: string;
  operator: string;
  value: ConditionValue;
}
export type ConditionTree = { all: ConditionNode[] } | { any: ConditionNode[] } | { not: ConditionNode };
export type ConditionNode = Condition | ConditionTree;

/** The parts of react-querybuilder's RuleType / RuleGroupType this mapping reads and writes. */
export interface QueryRule {
  id?: string;
  field: string;
  operator: string;
  value: ConditionValue;
}
export interface QueryGroup {
  id?: string;
  combinator: string;
  not?: boolean;
  /** Ours: this group is a `not` around its single rule or group, not around an all/any. */
  bareNot?: boolean;
  rules: (QueryRule | QueryGroup)[];
}

export const OPERATORS = [
  { name: 'equal', label: 'equals' },
  { name: 'notEqual', label: 'does not equal' },
  { name: 'lessThan', label: '<' },
  { name: 'lessThanInclusive', label: '≤' },
  { name: 'greaterThan', label: '>' },
  { name: 'greaterThanInclusive', label: '≥' },
  { name: 'in', label: 'is one of' },
  { name: 'notIn', label: 'is not one of' },
  { name: 'contains', label: 'contains' },
  { name: 'doesNotContain', label: 'does not contain' },
] as const;
export const LIST_OPERATORS = new Set(['in', 'notIn']);

const isGroup = (n: QueryRule | QueryGroup): n is QueryGroup => 'rules' in n;
const isCondition = (n: ConditionNode): n is Condition => 'fact' in n;

const FACT = /^[A-Za-z_][A-Za-z0-9_]*/;

/** `job` + `$.status` → `job.status` (see the module comment). */
export function fieldOf(fact: string, path?: string): string {
  if (path === undefined) return fact;
  if (path === '$') return `${fact}$`;
  return path.startsWith('$') ? fact + path.slice(1) : `${fact}${path}`;
}

/** `job.status` → `{fact: 'job', path: '$.status'}`; what is not a fact name is left for the API to refuse. */
export function factPathOf(field: string): { fact: string; path?: string } {
  const fact = FACT.exec(field)?.[0] ?? field;
  const rest = field.slice(fact.length);
  if (rest === '') return { fact };
  if (rest === '$') return { fact, path: '$' };
  return { fact, path: `$${rest}` };
}

export function toQuery(tree: ConditionTree): QueryGroup {
  if ('all' in tree) return { combinator: 'and', rules: tree.all.map(toQueryNode) };
  if ('any' in tree) return { combinator: 'or', rules: tree.any.map(toQueryNode) };
  const inner = tree.not;
  if (!isCondition(inner) && !('not' in inner)) return { ...toQuery(inner), not: true };
  return { combinator: 'and', not: true, bareNot: true, rules: [toQueryNode(inner)] };
}

function toQueryNode(node: ConditionNode): QueryRule | QueryGroup {
  if (!isCondition(node)) return toQuery(node);
  return { field: fieldOf(node.fact, node.path), operator: node.operator, value: node.value };
}

export function fromQuery(group: QueryGroup): ConditionTree {
  const nodes = group.rules.map(fromQueryNode);
  if (group.not && group.bareNot && nodes.length === 1) return { not: nodes[0] };
  const list: ConditionTree = group.combinator === 'or' ? { any: nodes } : { all: nodes };
  return group.not ? { not: list } : list;
}

function fromQueryNode(node: QueryRule | QueryGroup): ConditionNode {
  if (isGroup(node)) return fromQuery(node);
  const { fact, path } = factPathOf(node.field);
  return { fact, ...(path !== undefined && { path }), operator: node.operator, value: node.value };
}

/**
 * What the value box shows: a string as itself, unless it would read back as something else (`2500`,
 * `true`, `null`, `"quoted"`), then as JSON; numbers, booleans, null and lists as JSON.
 */
export function valueToText(value: ConditionValue): string {
  if (typeof value === 'string') return textToValue(value) === value ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** What was typed in the value box: JSON if it parses as a value we take, else the text as a string. */
export function textToValue(text: string): ConditionValue {
  try {
    const v: unknown = JSON.parse(text);
    const scalar = (x: unknown): x is Scalar =>
      x === null || ['string', 'number', 'boolean'].includes(typeof x);
    if (scalar(v) || (Array.isArray(v) && v.every(scalar))) return v;
  } catch {
    /* plain text */
  }
  return text;
}
