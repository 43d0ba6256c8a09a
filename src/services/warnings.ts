/**
 * Warnings for rule authors: what is valid but probably wrong. At write time against the event
 * catalogue (a fact or path never seen in that event type, a placeholder no payload fills, a recipient
 * path never seen, a numeric operator on a path only seen as strings); in a dry run also against the
 * event given (placeholders that rendered empty, conditions whose fact read null). The rule is saved
 * whatever they say. Pure code.
 */
import { catalogueKey, nearest, type EventTypeDetail, type JsonType } from './catalogue';
import { formatPath } from '../shared/errors';
import { factValue, parsePath, resolveSegments, type PathSegment } from '../shared/paths';
import type { ConditionResult } from '../shared/run-types';
import type { Action, ConditionNode, RuleBody } from '../shared/schemas';
import { jsonStringsAt, parseTemplate, stringify } from '../shared/templates';

export interface Warning {
  code: string;
  path: string;
  message: string;
  suggestion?: string;
}

const NUMERIC = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);
/** The facts every run has besides the payload's (src/services/plan.ts buildFacts / userFact). */
const BUILTIN_KEYS = [
  'event',
  ...['id', 'name', 'occurredAt', 'userId'].map((f) => `event.${f}`),
  'user',
  ...['id', 'externalId', 'name', 'email', 'phone', 'timezone', 'attributes'].map((f) => `user.${f}`),
];
/** User attributes are free-form: anything under them may exist. */
const OPEN_PREFIX = 'user.attributes';

type Loc = (string | number)[];

/** Where a rule reads a value: a condition, a recipient or a template placeholder. */
interface Ref {
  kind: 'condition' | 'recipient' | 'placeholder';
  fact: string;
  segments: PathSegment[];
  /** The rule field to point at, and for placeholders the text as written. */
  at: Loc;
  factAt: Loc;
  source?: string;
  operator?: string;
  value?: unknown;
}

function conditionRefs(node: ConditionNode, at: Loc, out: Ref[]): void {
  if ('all' in node) node.all.forEach((n, i) => conditionRefs(n, [...at, 'all', i], out));
  else if ('any' in node) node.any.forEach((n, i) => conditionRefs(n, [...at, 'any', i], out));
  else if ('not' in node) conditionRefs(node.not, [...at, 'not'], out);
  else {
    out.push({
      kind: 'condition',
      fact: node.fact,
      segments: parsePath(node.path ?? '$') ?? [],
      at: [...at, node.path === undefined ? 'fact' : 'path'],
      factAt: [...at, 'fact'],
      operator: node.operator,
      value: node.value,
    });
  }
}

function templateTexts(action: Action, at: Loc): { text: string; at: Loc }[] {
  const p = action.params as Record<string, unknown>;
  if (action.type === 'webhook')
    return jsonStringsAt(p.payload, [...at, 'payload']).map((s) => ({ text: s.text, at: s.segments }));
  const fields = action.type === 'sms' ? ['message'] : ['subject', 'text', 'html'];
  return fields
    .filter((f) => typeof p[f] === 'string')
    .map((f) => ({ text: p[f] as string, at: [...at, f] }));
}

/** Every value a rule reads, with where it reads it. */
export function ruleRefs(rule: RuleBody): Ref[] {
  const refs: Ref[] = [];
  conditionRefs(rule.conditions as ConditionNode, ['conditions'], refs);
  rule.actions.forEach((action, i) => {
    const at: Loc = ['actions', i, 'params'];
    const r = (action.params as { recipient?: unknown }).recipient;
    if (r && typeof r === 'object' && (r as { source?: string }).source === 'fact') {
      const { fact, path } = r as { fact: string; path: string };
      refs.push({
        kind: 'recipient',
        fact,
        segments: parsePath(path) ?? [],
        at: [...at, 'recipient', 'path'],
        factAt: [...at, 'recipient', 'fact'],
      });
    }
    for (const t of templateTexts(action, at)) {
      let parts;
      try {
        parts = parseTemplate(t.text);
      } catch {
        continue; // validation reports it
      }
      for (const part of parts) {
        if (typeof part === 'string') continue;
        refs.push({
          kind: 'placeholder',
          fact: part.fact,
          segments: part.path,
          at: t.at,
          factAt: t.at,
          source: part.source,
        });
      }
    }
  });
  return refs;
}

/** A catalogue key back to what a rule writes: `[*]` as `[0]`. */
const asPath = (key: string, fact: string) => `$${key.slice(fact.length)}`.replace(/\[\*\]/g, '[0]');
const asPlaceholder = (key: string) => `{{${key.replace(/\[\*\]/g, '[0]')}}}`;

export function ruleWarnings(rule: RuleBody, eventType: EventTypeDetail | null): Warning[] {
  const warnings: Warning[] = [];
  const eventName = 'eventName' in rule.trigger ? rule.trigger.eventName : null;
  if (eventName && !eventType) {
    warnings.push({
      code: 'no_catalogue',
      path: 'trigger.eventName',
      message: `no "${eventName}" event has been seen in this account yet, so its facts, paths, placeholders and recipients could not be checked`,
    });
  }
  const types = new Map<string, JsonType[]>();
  for (const p of eventType?.paths ?? []) types.set(p.fact + p.path.slice(1), p.types);
  const keys = new Set([...BUILTIN_KEYS, ...types.keys()]);
  const facts = new Set([...keys].map((k) => /^[A-Za-z0-9_]*/.exec(k)![0]));
  // Without a catalogue only the built-in facts can be checked; a truncated one may miss real paths.
  const checkPayload = Boolean(eventType) && !eventType!.truncated;
  const seenIn = eventName ? ` in "${eventName}" events` : '';

  for (const ref of ruleRefs(rule)) {
    const builtin = ref.fact === 'event' || ref.fact === 'user';
    if (!builtin && !checkPayload) continue;
    const key = catalogueKey(ref.fact, ref.segments);
    if (key.startsWith(OPEN_PREFIX)) continue;
    if (!facts.has(ref.fact)) {
      const suggestion = nearest(ref.fact, facts);
      warnings.push({
        code: 'unknown_fact',
        path: formatPath(ref.factAt),
        message: `fact "${ref.fact}" was never seen${seenIn}: it reads null`,
        ...(suggestion && { suggestion }),
      });
      continue;
    }
    if (!keys.has(key)) {
      const sameFact = [...keys].filter(
        (k) => k.startsWith(ref.fact) && /^[.[]?$/.test(k.charAt(ref.fact.length)),
      );
      const near = nearest(key, sameFact) ?? (ref.kind === 'placeholder' ? nearest(key, keys) : null);
      const written = ref.kind === 'placeholder' ? `{{${ref.source}}}` : `"${asPath(key, ref.fact)}"`;
      warnings.push({
        code:
          ref.kind === 'placeholder'
            ? 'unknown_placeholder'
            : ref.kind === 'recipient'
              ? 'unknown_recipient_path'
              : 'unknown_path',
        path: formatPath(ref.at),
        message:
          ref.kind === 'placeholder'
            ? `${written} is filled by no payload seen${seenIn}: it renders empty`
            : `${written} on fact ${ref.fact} was never seen${seenIn}: it reads null`,
        ...(near && {
          suggestion: ref.kind === 'placeholder' ? asPlaceholder(near) : asPath(near, ref.fact),
        }),
      });
      continue;
    }
    const seen = types.get(key);
    if (ref.kind === 'condition' && NUMERIC.has(ref.operator!) && seen?.includes('string')) {
      if (seen.every((t) => t === 'string' || t === 'null')) {
        warnings.push({
          code: 'numeric_operator_on_string',
          path: formatPath([...ref.factAt.slice(0, -1), 'operator']),
          message: `${ref.operator} compares numbers, but "${asPath(key, ref.fact)}" was only seen as a string${seenIn}: the condition never holds`,
        });
      }
    }
  }
  return warnings;
}

/**
 * What the dry run's own event shows: each placeholder that rendered empty, and each evaluated
 * condition whose fact read null (unless the condition tests for null on purpose).
 */
export function dryRunWarnings(
  rule: RuleBody,
  conditions: ConditionResult[],
  facts: Record<string, unknown>,
): Warning[] {
  const warnings: Warning[] = [];
  const refs = ruleRefs(rule);
  const leaves = refs.filter((r) => r.kind === 'condition');
  conditions.forEach((c, i) => {
    const ref = leaves[i];
    if (!ref || c.result === null || c.factValue !== null || c.value === null) return;
    warnings.push({
      code: 'null_fact',
      path: formatPath(ref.at),
      message: `fact ${c.fact}${c.path && c.path !== '$' ? ` at "${c.path}"` : ''} read null for this event`,
    });
  });
  const seen = new Set<string>();
  for (const ref of refs) {
    if (ref.kind !== 'placeholder') continue;
    const where = `${formatPath(ref.at)}\u0000${ref.source}`;
    if (seen.has(where)) continue;
    seen.add(where);
    if (stringify(resolveSegments(factValue(facts, ref.fact), ref.segments)) !== '') continue;
    warnings.push({
      code: 'empty_placeholder',
      path: formatPath(ref.at),
      message: `{{${ref.source}}} rendered empty for this event`,
    });
  }
  return warnings;
}
