/**
 * When a rule run sends: the date in the event plus the offset (or ingest plus the delay), moved to
 * the next opening of the send window. Uses Intl, so only activities and the API call it: workflow
 * code gets the answer from the planSend local activity, recorded in history, and a Node or
 * tz-database upgrade can never change how a run in flight replays.
 */
import type { RunEvent } from './run-types';
import { resolvePath } from './paths';
import type { Rule } from './schemas';
import { UNIT_MS, WEEKDAYS, type SendWindow } from './timing-schemas';

interface Local {
  y: number;
  m: number;
  d: number;
  hh: number;
  mm: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function localParts(ms: number, tz: string): Local {
  const p = Object.fromEntries(
    formatter(tz)
      .formatToParts(ms)
      .map((x) => [x.type, x.value]),
  );
  return {
    y: Number(p.year),
    m: Number(p.month),
    d: Number(p.day),
    hh: Number(p.hour),
    mm: Number(p.minute),
    weekday: WEEKDAYS.indexOf(p.weekday.toLowerCase().slice(0, 3) as (typeof WEEKDAYS)[number]),
  };
}

const asUtc = (l: Pick<Local, 'y' | 'm' | 'd' | 'hh' | 'mm'>) => Date.UTC(l.y, l.m - 1, l.d, l.hh, l.mm);

/**
 * The instant of a local wall time. A time the DST change skips opens at the next valid minute; a time
 * it repeats is its first occurrence.
 */
export function localToInstant(y: number, m: number, d: number, hh: number, mm: number, tz: string): number {
  const wanted = Date.UTC(y, m - 1, d, hh, mm);
  for (let shift = 0; shift <= 24 * 60; shift++) {
    const local = wanted + shift * 60_000;
    const found: number[] = [];
    for (const probe of [local - 86_400_000, local, local + 86_400_000]) {
      const offset = asUtc(localParts(probe, tz)) - Math.floor(probe / 60_000) * 60_000;
      const t = local - offset;
      if (asUtc(localParts(t, tz)) === local) found.push(t);
    }
    if (found.length) return Math.min(...found);
  }
  throw new Error(`no valid local time near ${new Date(wanted).toISOString()} in ${tz}`);
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The first instant at or after `at` inside the window (`at` itself when it is inside). */
export function nextWindowOpening(at: number, w: SendWindow, tz: string): number {
  const start = minutesOf(w.start);
  const end = minutesOf(w.end);
  const today = localParts(at, tz);
  // Day -1 too: a window crossing midnight opened yesterday may still be open.
  for (let day = -1; day <= 8; day++) {
    const date = new Date(Date.UTC(today.y, today.m - 1, today.d + day));
    if (!w.days.includes(WEEKDAYS[date.getUTCDay()])) continue;
    const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const opens = localToInstant(y, m, d, Math.floor(start / 60), start % 60, tz);
    const closeDate = new Date(Date.UTC(y, m - 1, d + (end <= start ? 1 : 0)));
    const closes = localToInstant(
      closeDate.getUTCFullYear(),
      closeDate.getUTCMonth() + 1,
      closeDate.getUTCDate(),
      Math.floor(end / 60),
      end % 60,
      tz,
    );
    if (at < closes && opens < closes) return Math.max(at, opens);
  }
  throw new Error('the window never opens');
}

export type SendTime =
  | { status: 'skip'; reason: string }
  | {
      status: 'planned';
      /** When the run sends. */
      sendAt: string;
      /** The send time before the window (the date plus the offset, or ingest plus the delay). */
      dueAt: string;
      /** How the send time was computed, for the execution log. */
      basis: string;
      /** Set when the window moved the send time. */
      window: { opensAt: string; timezone: string } | null;
      timezone: string | null;
    };

/** `tz` is the window's zone resolved (the user's or account's for `user`); unused without a window. */
export function computeSendTime(
  rule: Pick<Rule, 'delay' | 'window'>,
  event: Pick<RunEvent, 'receivedAt' | 'payload' | 'id' | 'name' | 'occurredAt' | 'userId'>,
  now: number,
  tz: string,
): SendTime {
  const d = rule.delay;
  let due: number;
  let basis: string;
  if ('until' in d) {
    const facts: Record<string, unknown> = {
      ...event.payload,
      event: { id: event.id, name: event.name, occurredAt: event.occurredAt, userId: event.userId ?? null },
    };
    const raw = resolvePath(facts[d.until.fact], d.until.path);
    const where = `${d.until.fact}${d.until.path.slice(1)}`;
    const date = typeof raw === 'string' && ISO_WITH_ZONE.test(raw) ? Date.parse(raw) : NaN;
    if (raw === undefined || raw === null)
      return { status: 'skip', reason: `${where} is missing from the event` };
    if (!Number.isFinite(date))
      return {
        status: 'skip',
        reason: `${where} is not an ISO 8601 date with a time and an offset: ${JSON.stringify(raw).slice(0, 100)}`,
      };
    due = date + d.offset.value * UNIT_MS[d.offset.unit];
    const off = d.offset.value;
    basis = `${where} ${new Date(date).toISOString()} ${off < 0 ? '-' : '+'} ${Math.abs(off)} ${d.offset.unit}`;
    if (due < now) {
      if (d.ifPast !== 'sendNow')
        return { status: 'skip', reason: `send time ${new Date(due).toISOString()} already passed` };
      basis += `; that time had passed: sending now`;
      due = now;
    }
  } else {
    due = Date.parse(event.receivedAt) + d.value * UNIT_MS[d.unit];
    basis = `received ${event.receivedAt} + ${d.value} ${d.unit}`;
  }
  const w = rule.window;
  const sendAt = w ? nextWindowOpening(Math.max(due, now), w, tz) : due;
  return {
    status: 'planned',
    sendAt: new Date(sendAt).toISOString(),
    dueAt: new Date(due).toISOString(),
    basis,
    window:
      w && sendAt > Math.max(due, now) ? { opensAt: new Date(sendAt).toISOString(), timezone: tz } : null,
    timezone: w ? tz : null,
  };
}

/** ISO 8601 with a time and an offset or Z (a date alone, or a local time, is ambiguous). */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
