/**
 * The safe path grammar for tenant-written paths: `$`, `.name` and `[index]` only. JSONPath's filter
 * and script expressions have had remote-code-execution CVEs, so they are never parsed or evaluated.
 * Pure code: used by the API, the activities and (through conditions) the rule engine.
 */
const SEGMENT = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d{1,6})\]/y;
export const MAX_PATH_SEGMENTS = 32;
/** Names that lead to an object's prototype rather than to its data: never part of a path. */
const RESERVED = new Set(['__proto__', 'prototype', 'constructor']);

export type PathSegment = string | number;

/** Parses `$.a.b[0]`; returns null when the path is outside the grammar. */
export function parsePath(path: string): PathSegment[] | null {
  if (typeof path !== 'string' || !path.startsWith('$')) return null;
  const segments: PathSegment[] = [];
  const re = new RegExp(SEGMENT.source, 'y');
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return null;
    if (m[1] !== undefined && RESERVED.has(m[1])) return null;
    segments.push(m[1] !== undefined ? m[1] : Number(m[2]));
    if (segments.length > MAX_PATH_SEGMENTS) return null;
  }
  return segments;
}

/** Why a path is refused, for validation messages; null when it is fine. */
export function pathProblem(path: string): string | null {
  if (parsePath(path) !== null) return null;
  if (!path.startsWith('$')) return 'must start with $, as in $.job.status';
  if (/\.\.|\[\s*\?|\[\s*\(|\[\s*['"]|\[\s*\*|\.\*|@/.test(path)) {
    return 'filters, scripts, wildcards, quoted keys and recursive descent are not allowed: use $.a.b[0]';
  }
  const names = path.match(/[A-Za-z_][A-Za-z0-9_-]*/g) ?? [];
  if (names.some((n) => RESERVED.has(n))) return 'must not name __proto__, prototype or constructor';
  return `must be a plain path such as $.a.b[0] (at most ${MAX_PATH_SEGMENTS} segments)`;
}

/** Reads own properties only, so `__proto__` or `constructor` can never reach a prototype. */
export function resolveSegments(value: unknown, segments: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof segment === 'number' && !Array.isArray(current)) return undefined;
    if (typeof segment === 'string' && RESERVED.has(segment)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

export function resolvePath(value: unknown, path: string): unknown {
  const segments = parsePath(path);
  return segments ? resolveSegments(value, segments) : undefined;
}

/** A fact by name from a facts object: own properties only, so `constructor` is no fact. */
export function factValue(facts: Record<string, unknown>, name: string): unknown {
  if (RESERVED.has(name) || !Object.prototype.hasOwnProperty.call(facts, name)) return undefined;
  return facts[name];
}
