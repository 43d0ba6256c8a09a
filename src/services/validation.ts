/**
 * The one validation module: the API, the dry run and the activities all check rules here, with
 * messages that name the field (`actions[0].params.recipient: required`).
 */
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { EmailTemplateEntity } from '../db/entities';
import { ApiError, formatPath, type ErrorDetail } from '../shared/errors';
import { refuseHost, type AllowList } from '../shared/net';
import { ruleBodySchema, type RuleBody } from '../shared/schemas';

/** Deeper JSON than this is refused before any schema (or JSON.stringify) recurses into it. */
export const MAX_JSON_DEPTH = 64;

type Issue = z.core.$ZodIssue;
interface Flat {
  path: PropertyKey[];
  message: string;
  /** Set for a type mismatch: what was expected (union branches combine these). */
  expected?: string[];
  missing?: boolean;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
  record: 'an object',
  map: 'an object',
};

const typeList = (expected: string[]) => {
  const names = [...new Set(expected.map((e) => TYPE_NAMES[e] ?? e))];
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
};

const ACCOUNT_ID_MESSAGE = 'comes from the API key and must not be sent';

function sizeMessage(i: Extract<Issue, { code: 'too_big' | 'too_small' }>): string {
  const big = i.code === 'too_big';
  const limit = Number(big ? i.maximum : i.minimum);
  const inclusive = i.inclusive !== false;
  switch (i.origin) {
    case 'string':
      if (!big && limit <= 1) return 'must not be empty';
      return `must be at ${big ? 'most' : 'least'} ${limit} characters`;
    case 'array':
    case 'set':
      if (!big && limit <= 1) return 'must have at least one item';
      return `must have at ${big ? 'most' : 'least'} ${limit} items`;
    case 'number':
    case 'int':
    case 'bigint':
      if (big && limit >= Number.MAX_SAFE_INTEGER) return 'must be a safe integer';
      if (big) return inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
      return inclusive ? `must be at least ${limit}` : `must be greater than ${limit}`;
    default:
      return i.message;
  }
}

function flatten(issues: readonly Issue[], prefix: PropertyKey[]): Flat[] {
  const out: Flat[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    switch (issue.code) {
      case 'invalid_union': {
        if (issue.errors.length === 0) {
          // A discriminated union whose discriminator matched no option.
          const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
          const key = (issue as { discriminator?: PropertyKey }).discriminator;
          const given =
            key !== undefined && issue.input && typeof issue.input === 'object'
              ? (issue.input as Record<PropertyKey, unknown>)[key]
              : undefined;
          out.push({
            path,
            message: `${given === undefined ? 'required: ' : 'must be '}one of ${options.join(', ')}`,
          });
          break;
        }
        out.push(...bestBranch(issue.errors, path, issue.input));
        break;
      }
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push({
            path: [...path, key],
            message: key === 'accountId' ? ACCOUNT_ID_MESSAGE : 'unknown field',
          });
        }
        break;
      case 'invalid_type': {
        const missing = issue.input === undefined;
        const expected = [String(issue.expected)];
        out.push({
          path,
          message: missing ? 'required' : `must be ${typeList(expected)}`,
          expected,
          missing,
        });
        break;
      }
      case 'too_big':
      case 'too_small':
        out.push({ path, message: sizeMessage(issue) });
        break;
      case 'invalid_value':
        out.push({
          path,
          message:
            issue.input === undefined
              ? 'required'
              : issue.values.length === 1
                ? `must be ${JSON.stringify(issue.values[0])}`
                : `must be one of ${issue.values.map(String).join(', ')}`,
        });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

/**
 * zod reports a failed union as every branch's issues. Show the branch the input was evidently meant
 * for: the one whose problems are least about the value's own shape, then the one that got deepest.
 */
function bestBranch(branches: readonly (readonly Issue[])[], at: PropertyKey[], input: unknown): Flat[] {
  const scored = branches.map((issues, order) => {
    const flat = flatten(issues, at);
    let penalty = 0;
    let depth = 0;
    for (const f of flat) {
      const rel = f.path.length - at.length;
      depth = Math.max(depth, rel);
      if (rel === 0) penalty += f.expected ? 10 : f.message === 'unknown field' ? 3 : 1;
    }
    return { flat, penalty, depth, order };
  });
  const allTypeMismatch = scored.every((s) => s.flat.every((f) => f.path.length === at.length && f.expected));
  if (allTypeMismatch) {
    if (input === undefined) return [{ path: at, message: 'required', missing: true }];
    const expected = scored.flatMap((s) => s.flat.flatMap((f) => f.expected ?? []));
    return [{ path: at, message: `must be ${typeList(expected)}`, expected }];
  }
  scored.sort((a, b) => a.penalty - b.penalty || b.depth - a.depth || a.order - b.order);
  return scored[0].flat;
}

/** zod issues as API error details, one per problem, each naming its field. */
export function issueDetails(issues: readonly Issue[]): ErrorDetail[] {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const f of flatten(issues, [])) {
    const d = { path: formatPath(f.path), message: f.message };
    const key = `${d.path}\u0000${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      details.push(d);
    }
  }
  return details;
}

const isWellFormed = (s: string) =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed() && !s.includes('\u0000');

/**
 * What no schema should ever see: JSON nested so deep that recursion overflows the stack, and strings
 * PostgreSQL cannot store (NUL characters, unpaired surrogates). Iterative, so it cannot overflow itself.
 */
export function jsonProblem(input: unknown, maxDepth = MAX_JSON_DEPTH): ErrorDetail | null {
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value: input, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (!isWellFormed(value)) {
        return { path: formatPath(path), message: 'must not contain NUL characters or unpaired surrogates' };
      }
    } else if (value !== null && typeof value === 'object') {
      if (path.length >= maxDepth) {
        return { path: formatPath(path), message: `nested deeper than ${maxDepth} levels` };
      }
      const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
      for (const [k, v] of entries) {
        if (typeof k === 'string' && !isWellFormed(k)) {
          return {
            path: formatPath(path),
            message: 'keys must not contain NUL characters or unpaired surrogates',
          };
        }
        if (k === '__proto__') {
          return { path: formatPath([...path, k]), message: 'the key __proto__ is not allowed' };
        }
        stack.push({ value: v, path: [...path, k] });
      }
    }
  }
  return null;
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const problem = jsonProblem(input);
  if (problem) throw ApiError.validation([problem]);
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw ApiError.validation(issueDetails(parsed.error.issues));
}

export interface RuleContext {
  db: DataSource;
  accountId: string;
  allowedHosts: AllowList;
}

/** Checks what a schema cannot: webhook targets against the allow list, and that templates exist. */
export async function ruleProblems(rule: RuleBody, ctx: RuleContext): Promise<ErrorDetail[]> {
  const problems: ErrorDetail[] = [];
  for (const [i, action] of rule.actions.entries()) {
    if (action.type === 'webhook') {
      // `http://localhost./` names the same host as `http://localhost/`.
      const host = new URL(action.params.url).hostname.replace(/\.+$/, '');
      const refused = refuseHost(host, ctx.allowedHosts);
      if (refused) problems.push({ path: `actions[${i}].params.url`, message: refused });
    }
    if (action.type === 'email' && action.params.templateId) {
      const exists = await ctx.db
        .getRepository(EmailTemplateEntity)
        .existsBy({ accountId: ctx.accountId, id: action.params.templateId });
      if (!exists) {
        problems.push({
          path: `actions[${i}].params.templateId`,
          message: `no template "${action.params.templateId}" in this account`,
        });
      }
    }
  }
  return problems;
}

/** A valid rule body, or a 400 naming every problem. `accountId` in the body is ignored, never trusted. */
export async function validateRule(input: unknown, ctx: RuleContext): Promise<RuleBody> {
  const rule = parseOrThrow(ruleBodySchema, input);
  const problems = await ruleProblems(rule, ctx);
  if (problems.length) throw ApiError.validation(problems);
  return rule;
}

/** The same error with every detail path under `prefix` (for a rule nested in a request body). */
export function prefixDetails(err: unknown, prefix: string): unknown {
  if (!(err instanceof ApiError) || err.code !== 'validation_failed') return err;
  return ApiError.validation(
    err.details.map((d) => ({
      path: d.path === '(body)' ? prefix : `${prefix}${d.path.startsWith('[') ? '' : '.'}${d.path}`,
      message: d.message,
    })),
  );
}
