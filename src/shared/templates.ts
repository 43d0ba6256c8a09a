/**
 * `{{fact.path}}` templates: values are substituted, never evaluated. A placeholder is a fact name
 * followed by the path as in a condition without its `$`: `{{job.number}}`, `{{job.items[0].name}}`,
 * `{{job['first name']}}`, `{{job.client["e-mail"]}}`. Shared by validation, the dry run and the
 * activities so that what validates is exactly what renders.
 */
import {
  factValue,
  parsePath,
  parseStoredPath,
  pathProblem,
  resolveSegments,
  type PathSegment,
} from './paths';

// No nested quantifiers and no braces inside: matching is linear in the template's length.
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const FACT = /^[A-Za-z_][A-Za-z0-9_]*/;
const RESERVED_FACTS = new Set(['__proto__', 'prototype', 'constructor']);

type Part = string | { fact: string; path: PathSegment[]; source: string };

export class TemplateError extends Error {}

/**
 * `strict` (validation) takes the RFC 9535 grammar only; rendering also reads the pre-RFC forms
 * (`{{job.job-id}}`) so that templates saved before keep rendering as they did.
 */
export function parseTemplate(template: string, strict = false): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const ref = m[1].trim();
    const shown = ref.length > 60 ? `${ref.slice(0, 60)}…` : ref;
    const fact = FACT.exec(ref)?.[0];
    if (fact === undefined)
      throw new TemplateError(`"{{${shown}}}" is not a value reference such as {{job.number}}`);
    const rest = '$' + ref.slice(fact.length);
    const path = strict ? parsePath(rest) : parseStoredPath(rest);
    if (RESERVED_FACTS.has(fact))
      throw new TemplateError(`"{{${shown}}}" is not allowed: no __proto__, prototype or constructor`);
    if (path === null) {
      const why = (pathProblem(rest) ?? '').replace(/\$(?=[.[])/g, fact);
      throw new TemplateError(`"{{${shown}}}" is not a value reference such as {{job.number}}: ${why}`);
    }
    parts.push(template.slice(last, m.index), { fact, path, source: ref });
    last = m.index + m[0].length;
  }
  const rest = template.slice(last);
  if (rest.includes('{{') || parts.some((p) => typeof p === 'string' && p.includes('{{'))) {
    throw new TemplateError('unbalanced "{{": close each placeholder with "}}"');
  }
  parts.push(rest);
  return parts.filter((p) => p !== '');
}

/** The fact names a template reads, for validation. */
export function templateFacts(template: string): string[] {
  return parseTemplate(template).flatMap((p) => (typeof p === 'string' ? [] : [p.fact]));
}

export function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);

function lookup(facts: Record<string, unknown>, part: Exclude<Part, string>): unknown {
  return resolveSegments(factValue(facts, part.fact), part.path);
}

export function renderTemplate(
  template: string,
  facts: Record<string, unknown>,
  options: { html?: boolean } = {},
): string {
  return parseTemplate(template)
    .map((p) => {
      if (typeof p === 'string') return p;
      const text = stringify(lookup(facts, p));
      return options.html ? escapeHtml(text) : text;
    })
    .join('');
}

/**
 * Renders every string inside a JSON value (webhook payloads). A string that is a single placeholder
 * keeps the value's own type, so `"{{job.total}}"` sends the number 2500, not "2500".
 */
export function renderJson(value: unknown, facts: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const parts = parseTemplate(value);
    if (parts.length === 1 && typeof parts[0] !== 'string') {
      const v = lookup(facts, parts[0]);
      return v === undefined ? null : v;
    }
    return renderTemplate(value, facts);
  }
  if (Array.isArray(value)) return value.map((v) => renderJson(v, facts));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderJson(v, facts)]));
  }
  return value;
}

/** Every template string inside a JSON value, for validation. */
export function jsonStrings(value: unknown, at = ''): { path: string; text: string }[] {
  return jsonStringsAt(value, at ? [at] : []).map((s) => ({
    path: s.segments.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join(''),
    text: s.text,
  }));
}

/** Like jsonStrings, with the location as path segments (keys may contain dots). */
export function jsonStringsAt(
  value: unknown,
  at: (string | number)[] = [],
): { segments: (string | number)[]; text: string }[] {
  if (typeof value === 'string') return [{ segments: at, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => jsonStringsAt(v, [...at, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => jsonStringsAt(v, [...at, k]));
  }
  return [];
}
