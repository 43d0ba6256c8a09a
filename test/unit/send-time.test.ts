/** Send times and windows: dates with offsets, windows crossing midnight, DST days in America/New_York. */
import { computeSendTime, nextWindowOpening } from '../../src/shared/send-time';
import type { SendWindow } from '../../src/shared/timing-schemas';

const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
const ALL: SendWindow['days'] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const win = (start: string, end: string, days = ALL): SendWindow => ({ days, start, end, timezone: 'user' });
const NY = 'America/New_York';

describe('nextWindowOpening', () => {
  test('inside the window: unchanged; before it: its start; after it: the next allowed day', () => {
    const w = win('08:00', '20:00', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
    expect(iso(nextWindowOpening(at('2027-01-05T15:00:00Z'), w, 'UTC'))).toBe('2027-01-05T15:00:00.000Z');
    expect(iso(nextWindowOpening(at('2027-01-05T03:00:00Z'), w, 'UTC'))).toBe('2027-01-05T08:00:00.000Z');
    // Saturday 21:00: Sunday is not a window day.
    expect(iso(nextWindowOpening(at('2027-01-09T21:00:00Z'), w, 'UTC'))).toBe('2027-01-11T08:00:00.000Z');
  });

  test('a window crossing midnight (21:00-07:00) is open after midnight, closed at noon', () => {
    const w = win('21:00', '07:00');
    expect(iso(nextWindowOpening(at('2027-01-05T03:00:00Z'), w, 'UTC'))).toBe('2027-01-05T03:00:00.000Z');
    expect(iso(nextWindowOpening(at('2027-01-05T12:00:00Z'), w, 'UTC'))).toBe('2027-01-05T21:00:00.000Z');
    // Only Mondays: Tuesday 02:00 is still Monday's night; Tuesday 22:00 waits for next Monday.
    const mon = win('21:00', '07:00', ['mon']);
    expect(iso(nextWindowOpening(at('2027-01-05T02:00:00Z'), mon, 'UTC'))).toBe('2027-01-05T02:00:00.000Z');
    expect(iso(nextWindowOpening(at('2027-01-05T22:00:00Z'), mon, 'UTC'))).toBe('2027-01-11T21:00:00.000Z');
  });

  test('America/New_York on 2027-03-14 (spring forward) and 2027-11-07 (fall back)', () => {
    // 08:00 EDT is 12:00Z on the 14th; the day before it is 08:00 EST, 13:00Z.
    expect(iso(nextWindowOpening(at('2027-03-13T10:00:00Z'), win('08:00', '20:00'), NY))).toBe(
      '2027-03-13T13:00:00.000Z',
    );
    expect(iso(nextWindowOpening(at('2027-03-14T10:00:00Z'), win('08:00', '20:00'), NY))).toBe(
      '2027-03-14T12:00:00.000Z',
    );
    // 02:30 does not exist on the 14th: the window opens at the next valid minute, 03:00 EDT.
    expect(iso(nextWindowOpening(at('2027-03-14T05:00:00Z'), win('02:30', '05:00'), NY))).toBe(
      '2027-03-14T07:00:00.000Z',
    );
    // 08:00 EST is 13:00Z on 7 November; the day before it is 08:00 EDT, 12:00Z.
    expect(iso(nextWindowOpening(at('2027-11-06T10:00:00Z'), win('08:00', '20:00'), NY))).toBe(
      '2027-11-06T12:00:00.000Z',
    );
    expect(iso(nextWindowOpening(at('2027-11-07T10:00:00Z'), win('08:00', '20:00'), NY))).toBe(
      '2027-11-07T13:00:00.000Z',
    );
    // 01:30 happens twice on 7 November: the first one (EDT, 05:30Z) opens the window.
    expect(iso(nextWindowOpening(at('2027-11-07T04:00:00Z'), win('01:30', '03:00'), NY))).toBe(
      '2027-11-07T05:30:00.000Z',
    );
  });
});

describe('computeSendTime', () => {
  const event = (scheduledAt: unknown) => ({
    id: 'e1',
    name: 'job.created',
    occurredAt: '2027-01-01T00:00:00Z',
    receivedAt: '2027-01-01T00:00:00Z',
    payload: { job: { scheduledAt } },
  });
  const until = (ifPast: 'skip' | 'sendNow') => ({
    delay: {
      until: { fact: 'job', path: '$.scheduledAt' },
      offset: { value: -24, unit: 'hours' as const },
      ifPast,
    },
    window: null,
  });
  const now = at('2027-01-01T00:00:00Z');

  test('the date plus a signed offset; offsets in the date are honoured', () => {
    expect(computeSendTime(until('skip'), event('2027-01-05T09:00:00-05:00'), now, 'UTC')).toMatchObject({
      status: 'planned',
      sendAt: '2027-01-04T14:00:00.000Z',
      basis: 'job.scheduledAt 2027-01-05T14:00:00.000Z - 24 hours',
    });
  });

  test('past, missing and unparsable dates', () => {
    expect(computeSendTime(until('skip'), event('2027-01-01T12:00:00Z'), now, 'UTC')).toEqual({
      status: 'skip',
      reason: 'send time 2026-12-31T12:00:00.000Z already passed',
    });
    expect(computeSendTime(until('sendNow'), event('2027-01-01T12:00:00Z'), now, 'UTC')).toMatchObject({
      status: 'planned',
      sendAt: iso(now),
    });
    expect(computeSendTime(until('skip'), event(undefined), now, 'UTC')).toMatchObject({ status: 'skip' });
    // A date without an offset is ambiguous: refused, not read as local or UTC.
    expect(computeSendTime(until('skip'), event('2027-01-05T09:00:00'), now, 'UTC')).toMatchObject({
      status: 'skip',
      reason: expect.stringContaining('not an ISO 8601 date'),
    });
  });

  test('a window moves the send time, in the timezone given', () => {
    const t = computeSendTime(
      { ...until('skip'), window: win('08:00', '20:00') },
      event('2027-01-05T04:00:00Z'),
      now,
      NY,
    );
    expect(t).toMatchObject({
      status: 'planned',
      dueAt: '2027-01-04T04:00:00.000Z',
      sendAt: '2027-01-04T13:00:00.000Z',
      window: { opensAt: '2027-01-04T13:00:00.000Z', timezone: NY },
    });
  });
});
