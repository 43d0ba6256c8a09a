/** The calendar days GET /executions/stats/daily counts in: local midnights, across DST changes. */
import { calendarDays } from '../../src/services/executions/stats';

const iso = (d: { date: string; start: number; end: number }) => ({
  date: d.date,
  start: new Date(d.start).toISOString(),
  end: new Date(d.end).toISOString(),
});

test('days end today, each from local midnight to the next', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');
  expect(calendarDays(now, 2, 'UTC').map(iso)).toEqual([
    { date: '2026-03-09', start: '2026-03-09T00:00:00.000Z', end: '2026-03-10T00:00:00.000Z' },
    { date: '2026-03-10', start: '2026-03-10T00:00:00.000Z', end: '2026-03-11T00:00:00.000Z' },
  ]);
  // 01:00 UTC is still the previous evening in Chicago.
  expect(calendarDays(Date.parse('2026-03-10T01:00:00Z'), 1, 'America/Chicago').map(iso)).toEqual([
    { date: '2026-03-09', start: '2026-03-09T05:00:00.000Z', end: '2026-03-10T05:00:00.000Z' },
  ]);
});

test('a DST day is 23 or 25 hours long, and days cross month ends', () => {
  const spring = calendarDays(Date.parse('2026-03-08T18:00:00Z'), 1, 'America/New_York')[0];
  expect(spring.date).toBe('2026-03-08');
  expect((spring.end - spring.start) / 3_600_000).toBe(23);
  const autumn = calendarDays(Date.parse('2026-11-01T18:00:00Z'), 1, 'America/New_York')[0];
  expect((autumn.end - autumn.start) / 3_600_000).toBe(25);
  expect(calendarDays(Date.parse('2026-03-01T12:00:00Z'), 3, 'UTC').map((d) => d.date)).toEqual([
    '2026-02-27',
    '2026-02-28',
    '2026-03-01',
  ]);
});
