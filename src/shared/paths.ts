/**
 * The safe path grammar for tenant-written paths: `$`, `.name` and `[index]` only. JSONPath's filter
 * and script expressions have had remote-code-execution CVEs, so they are never parsed or evaluated.
 * Pure code: used by the API, the activities and (through conditions) the rule engine.
 */
const SEGMENT = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d{1,6})\]/y;
const MAX_SEGMENTS = 32;

export type PathSegment = string | number;

/** Parses `$.a.b[0]`; returns null when the path is outside the grammar. */
export function parsePath(path: string): PathSegment[] | null {
  if (!path.startsWith('$')) return null;
  const segments: PathSegment[] = [];
  SEGMENT.lastIndex = 1;
  while (SEGMENT.lastIndex < path.length) {
    const m = SEGMENT.exec(path);
    if (!m) return null;
    segments.push(m[1] !== undefined ? m[1] : Number(m[2]));
    if (segments.length > MAX_SEGMENTS) return null;
  }
  return segments;
}

/** Reads own properties only, so `__proto__` or `constructor` can never reach a prototype. */
export function resolveSegments(value: unknown, segments: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof segment === 'number' && !Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

export function resolvePath(value: unknown, path: string): unknown {
  const segments = parsePath(path);
  return segments ? resolveSegments(value, segments) : undefined;
}
