/**
 * The shape of one payload, as the event catalogue records it: every fact (top-level key) and path
 * under it with its JSON type and an example value, masked where it looks like a phone number, an email
 * address or a secret. Pure and bounded: at most MAX_NODES values are visited whatever the payload's
 * size, MAX_ARRAY_ITEMS items of each array (recorded as `[*]`), MAX_DEPTH levels under a fact.
 */
import { maskRecipient } from '../../shared/mask';
import { nameSegment, type PathSegment } from '../../shared/paths';

export const MAX_NODES = 1000;
export const MAX_ARRAY_ITEMS = 3;
export const MAX_DEPTH = 8;
export const MAX_PATH_CHARS = 200;
export const MAX_EXAMPLE_CHARS = 64;

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';

export interface PathShape {
  fact: string;
  /** `$`-rooted under the fact; array items are `[*]`. */
  path: string;
  types: JsonType[];
  /** A scalar seen there (masked), null for objects and arrays. */
  example: string | number | boolean | null;
}

export const typeOf = (v: unknown): JsonType =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as 'string' | 'number' | 'boolean' | 'object');

const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|auth|ssn|card/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{7,20}$/;

export function maskExample(key: string, v: unknown): string | number | boolean | null {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return SECRET_KEY.test(key) ? '•••' : v;
  if (typeof v !== 'string') return null;
  if (SECRET_KEY.test(key)) return '•••';
  if (EMAIL.test(v)) return maskRecipient(v);
  const digits = v.replace(/\D/g, '');
  if (PHONE.test(v) && digits.length >= 7) return maskRecipient(`+${digits}`);
  return v.length > MAX_EXAMPLE_CHARS ? `${v.slice(0, MAX_EXAMPLE_CHARS)}…` : v;
}

/** Calls `visit` once per (fact, path) occurrence, breadth-first so that shallow paths come first. */
export function walkPayload(payload: Record<string, unknown>, visit: (p: PathShape) => void): void {
  const queue: { fact: string; path: string; key: string; value: unknown; depth: number }[] = [];
  for (const key of Object.keys(payload)) {
    if (queue.length >= MAX_NODES) break;
    queue.push({ fact: key, path: '$', key, value: payload[key], depth: 0 });
  }
  let visited = 0;
  for (let i = 0; i < queue.length && visited < MAX_NODES; i++) {
    const n = queue[i];
    visited++;
    const type = typeOf(n.value);
    visit({ fact: n.fact, path: n.path, types: [type], example: maskExample(n.key, n.value) });
    if (n.depth >= MAX_DEPTH || queue.length >= MAX_NODES) continue;
    if (type === 'array') {
      const items = n.value as unknown[];
      for (let j = 0; j < items.length && j < MAX_ARRAY_ITEMS; j++)
        queue.push({ ...n, path: `${n.path}[*]`, value: items[j], depth: n.depth + 1 });
    } else if (type === 'object') {
      for (const key in n.value as object) {
        if (!Object.prototype.hasOwnProperty.call(n.value, key)) continue;
        if (queue.length >= MAX_NODES) break;
        const path = n.path + nameSegment(key);
        if (path.length > MAX_PATH_CHARS) continue;
        queue.push({
          fact: n.fact,
          path,
          key,
          value: (n.value as Record<string, unknown>)[key],
          depth: n.depth + 1,
        });
      }
    }
  }
}

/** A path as a rule writes it (parsed), with indexes as `[*]`: how it is looked up in the catalogue. */
export function catalogueKey(fact: string, segments: readonly PathSegment[]): string {
  return fact + segments.map((s) => (typeof s === 'number' ? '[*]' : nameSegment(s))).join('');
}
