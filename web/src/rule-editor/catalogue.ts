/**
 * What the event catalogue (GET /event-types, GET /event-types/:name) offers the editor: event names,
 * fields (fact + path) for conditions and recipients, `{{placeholders}}` for templates, and a sample
 * payload rebuilt from the latest (masked) example of each path.
 */
import { useQuery } from '@tanstack/react-query';
import { api, ApiProblem, unwrap, type Schemas } from '../api/client';
import { fieldOf } from '../conditions';

export function useEventNames() {
  return useQuery({
    queryKey: ['event-types'],
    queryFn: () => unwrap(api.GET('/event-types')),
    select: (d) => d.items.map((t) => t.name),
    staleTime: 30_000,
  });
}

type EventType = NonNullable<Awaited<ReturnType<typeof fetchEventType>>>;
type CataloguePath = EventType['paths'][number];

async function fetchEventType(name: string) {
  try {
    return await unwrap(api.GET('/event-types/{name}', { params: { path: { name } } }));
  } catch (err) {
    if (err instanceof ApiProblem && (err.status === 404 || err.status === 400)) return null; // never seen
    throw err;
  }
}

export function useEventType(name: string | undefined) {
  return useQuery({
    queryKey: ['event-type', name],
    queryFn: () => fetchEventType(name!),
    enabled: Boolean(name),
    staleTime: 30_000,
  });
}

/** A catalogue path as a rule writes it: `[*]` (any item) becomes the first item. */
const rulePath = (p: CataloguePath) => p.path.replace(/\[\*\]/g, '[0]');
const isLeaf = (p: CataloguePath) => !p.types.every((t) => t === 'object' || t === 'array');

/** Condition fields (`job.status`) with their types, event and user facts first. */
export function fieldsOf(type: EventType | null | undefined): { name: string; label: string }[] {
  const fields = ['event.name', 'event.id', 'event.occurredAt', 'user.name', 'user.email', 'user.phone'];
  for (const p of type?.paths ?? []) if (isLeaf(p)) fields.push(fieldOf(p.fact, rulePath(p)));
  return [...new Set(fields)].map((f) => ({ name: f, label: f }));
}

export const placeholdersOf = (type: EventType | null | undefined) =>
  fieldsOf(type).map((f) => `{{${f.name}}}`);

const SEGMENT = /\.([A-Za-z0-9_]+)|\[(-?\d+|\*)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/g;

/** `$.a['b c'][*]` → ['a', 'b c', 0]. */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.slice(1).matchAll(SEGMENT)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(m[2] === '*' ? 0 : Math.max(0, Number(m[2])));
    else out.push((m[3] ?? m[4]).replace(/\\(.)/g, '$1'));
  }
  return out;
}

type Json = Record<string, unknown> | unknown[];

/** The latest example of every path, put back together into one payload. */
export function samplePayload(type: EventType | null | undefined): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  const paths = [...(type?.paths ?? [])].sort((a, b) => a.path.length - b.path.length);
  for (const p of paths) {
    const segs = [p.fact, ...segments(p.path)];
    let node: Json = payload;
    for (const [i, seg] of segs.entries()) {
      const last = i === segs.length - 1;
      const container = node as Record<string | number, unknown>;
      if (last) {
        if (container[seg] === undefined)
          container[seg] = p.types.includes('array') ? [] : p.types.includes('object') ? {} : p.example;
      } else {
        if (typeof container[seg] !== 'object' || container[seg] === null)
          container[seg] = typeof segs[i + 1] === 'number' ? [] : {};
        node = container[seg] as Json;
      }
    }
  }
  return payload;
}

export type { EventType, CataloguePath };
export type Warning = Schemas['Warning'];
