/**
 * The safe path grammar for tenant-written paths: the RFC 9535 (JSONPath) subset of singular queries —
 * `$`, `.name`, `['quoted name']` / `["quoted name"]` (RFC escapes, read literally) and `[index]`
 * (negative counts from the end). Filters, scripts, wildcards, slices, unions and recursive descent are
 * never parsed or evaluated (JSONPath's have had remote-code-execution CVEs). What RFC 9535 forbids
 * (`[01]`, `[-0]`, `$.job-id`, unknown escapes) is refused at write time with the form to write instead.
 * Pure code: used by the API, the activities and (through conditions) the rule engine.
 */
export const MAX_PATH_SEGMENTS = 32;
const MAX_INDEX_DIGITS = 6;
/** Names that lead to an object's prototype rather than to its data: never part of a path. */
const RESERVED = new Set(['__proto__', 'prototype', 'constructor']);

export type PathSegment = string | number;
type Parsed = { segments: PathSegment[] } | { error: string };

const UNSUPPORTED =
  "filters, scripts, wildcards, slices, unions and recursive descent are not allowed: use $.a.b[0] or $['a b']";
const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '/': '/', '\\': '\\' };

const isNameFirst = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 0x80;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isBlank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const SHORTHAND = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/;

/** A quoted member name from `path[start]` (the quote); RFC 9535 §2.3.1.1 escapes. */
function quoted(path: string, start: number): { name: string; end: number } | { error: string } {
  const q = path[start];
  let name = '';
  for (let i = start + 1; i < path.length; i++) {
    const ch = path[i];
    if (ch === q) return { name, end: i + 1 };
    if (path.charCodeAt(i) < 0x20) return { error: 'control characters must be escaped in a quoted name' };
    if (ch !== '\\') {
      name += ch;
      continue;
    }
    const e = path[++i];
    if (e === q) name += q;
    else if (e !== undefined && ESCAPES[e] !== undefined) name += ESCAPES[e];
    else if (e === 'u') {
      const hex = (at: number) =>
        /^[0-9A-Fa-f]{4}$/.test(path.slice(at, at + 4)) ? parseInt(path.slice(at, at + 4), 16) : -1;
      const cp = hex(i + 1);
      if (cp < 0) return { error: 'a \\u escape needs four hex digits' };
      i += 4;
      if (cp >= 0xdc00 && cp <= 0xdfff) return { error: 'a \\u escape must not be a lone low surrogate' };
      if (cp >= 0xd800 && cp <= 0xdbff) {
        const low = path.slice(i + 1, i + 3) === '\\u' ? hex(i + 3) : -1;
        if (low < 0xdc00 || low > 0xdfff)
          return { error: 'a high surrogate \\u escape must be followed by a low one' };
        i += 6;
        name += String.fromCharCode(cp, low);
      } else name += String.fromCharCode(cp);
    } else
      return {
        error: `\\${e ?? ''} is not an escape RFC 9535 allows in a ${q === "'" ? 'single' : 'double'}-quoted name`,
      };
  }
  return { error: 'quoted name is not closed' };
}

/**
 * `legacy` also reads what the grammar accepted before RFC 9535 (dashes after `.`, leading zeros in an
 * index), so that rules saved then keep reading what they read; writes are checked strictly.
 */
function parse(path: string, legacy: boolean): Parsed {
  if (typeof path !== 'string' || !path.startsWith('$'))
    return { error: 'must start with $, as in $.job.status' };
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path.charCodeAt(i);
    let segment: PathSegment;
    if (c === 46 /* . */) {
      let j = i + 1;
      if (j >= path.length || !isNameFirst(path.charCodeAt(j))) {
        if (path[j] === '.' || path[j] === '*') return { error: UNSUPPORTED };
        return { error: `a name after "." starts with a letter or _: write $['…'] for other names` };
      }
      while (
        j < path.length &&
        (isNameFirst(path.charCodeAt(j)) || isDigit(path.charCodeAt(j)) || (legacy && path[j] === '-'))
      )
        j++;
      if (path[j] === '-') {
        const full = /^[^.[\]]*/.exec(path.slice(i + 1))![0];
        const right = `${path.slice(0, i)}${nameSegment(full)}${path.slice(i + 1 + full.length)}`;
        return {
          error: `"${full}" needs quotes (a name after "." has only letters, digits and _): write ${right}`,
        };
      }
      segment = path.slice(i + 1, j);
      i = j;
    } else if (c === 91 /* [ */) {
      let j = i + 1;
      while (j < path.length && isBlank(path.charCodeAt(j))) j++;
      const q = path[j];
      if (q === "'" || q === '"') {
        const r = quoted(path, j);
        if ('error' in r) return r;
        segment = r.name;
        j = r.end;
      } else {
        const m = /-?\d+/y;
        m.lastIndex = j;
        const digits = m.exec(path)?.[0];
        if (digits === undefined) return { error: UNSUPPORTED };
        const abs = digits.replace('-', '');
        if (digits === '-0') return { error: 'index -0 is not allowed: write [0]' };
        if (abs.length > 1 && abs.startsWith('0') && !(legacy && !digits.startsWith('-'))) {
          return {
            error: `index ${digits} has a leading zero, which RFC 9535 forbids: write [${Number(digits)}]`,
          };
        }
        if (abs.length > MAX_INDEX_DIGITS) return { error: `index ${digits} is too large` };
        segment = Number(digits);
        j += digits.length;
      }
      while (j < path.length && isBlank(path.charCodeAt(j))) j++;
      if (path[j] !== ']')
        return { error: path[j] === ',' || path[j] === ':' ? UNSUPPORTED : 'expected "]"' };
      i = j + 1;
    } else {
      return { error: `unexpected "${path[i]}": after $ come .name, ['name'] or [index] only` };
    }
    if (typeof segment === 'string' && RESERVED.has(segment))
      return { error: 'must not name __proto__, prototype or constructor' };
    segments.push(segment);
    if (segments.length > MAX_PATH_SEGMENTS) return { error: `at most ${MAX_PATH_SEGMENTS} segments` };
  }
  return { segments };
}

/** Parses a path strictly (RFC 9535 subset); null when it is outside the grammar. */
export function parsePath(path: string): PathSegment[] | null {
  const r = parse(path, false);
  return 'segments' in r ? r.segments : null;
}

/** Parses what a stored rule may hold: the strict grammar plus the pre-RFC forms. */
export function parseStoredPath(path: string): PathSegment[] | null {
  const r = parse(path, true);
  return 'segments' in r ? r.segments : null;
}

/** Why a path is refused, for validation messages; null when it is fine. */
export function pathProblem(path: string): string | null {
  const r = parse(path, false);
  return 'error' in r ? r.error : null;
}

/** A member name as a path segment: `.name` when RFC shorthand allows it, else `['name']`. */
export function nameSegment(name: string): string {
  if (SHORTHAND.test(name)) return `.${name}`;
  // eslint-disable-next-line no-control-regex
  const body = name.replace(/[\\'\u0000-\u001f]/g, (ch) => {
    const short = Object.entries(ESCAPES).find(([, v]) => v === ch && ch !== '/');
    if (ch === "'") return "\\'";
    return short ? `\\${short[0]}` : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `['${body}']`;
}

/** Segments back to a path, `$` first; numbers as `[n]`. */
export function formatSegments(segments: readonly PathSegment[]): string {
  return '$' + segments.map((s) => (typeof s === 'number' ? `[${s}]` : nameSegment(s))).join('');
}

/**
 * The right form of a path written without `$` for a condition or recipient on `fact`:
 * `total` → `$.total`, `job.total` on fact job → `$.total`, `first name` → `$['first name']`.
 */
export function dollarForm(path: string, fact?: string): string | null {
  let p = path.trim();
  if (fact && (p === fact || p.startsWith(`${fact}.`) || p.startsWith(`${fact}[`))) p = p.slice(fact.length);
  const candidate = p === '' ? '$' : p.startsWith('.') || p.startsWith('[') ? `$${p}` : `$.${p}`;
  if (parsePath(candidate)) return candidate;
  if (!/[.[\]]/.test(p)) return formatSegments([p]);
  return null;
}

/** The fact-aware message for a path without `$`: `path "total" on fact job: write "$.total"`. */
export function missingDollarMessage(path: string, fact: string): string {
  const right = dollarForm(path, fact);
  return `path "${path}" on fact ${fact}: ${right ? `write "${right}"` : 'must start with $, as in $.status'}`;
}

/** Reads own properties only, so `__proto__` or `constructor` can never reach a prototype. */
export function resolveSegments(value: unknown, segments: readonly PathSegment[]): unknown {
  let current = value;
  for (let segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      if (segment < 0) segment = current.length + segment;
    }
    if (typeof segment === 'string' && RESERVED.has(segment)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

export function resolvePath(value: unknown, path: string): unknown {
  const segments = parseStoredPath(path);
  return segments ? resolveSegments(value, segments) : undefined;
}

/** A fact by name from a facts object: own properties only, so `constructor` is no fact. */
export function factValue(facts: Record<string, unknown>, name: string): unknown {
  if (RESERVED.has(name) || !Object.prototype.hasOwnProperty.call(facts, name)) return undefined;
  return facts[name];
}
