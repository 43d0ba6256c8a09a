import { ConfigError, formatDuration, loadConfig, parseRetention } from '../../src/config';

test('TEMPORAL_RETENTION: 30 days by default, durations in s/m/h/d, written back in the shortest form', () => {
  expect(loadConfig({}).TEMPORAL_RETENTION).toBe(30 * 86400);
  expect(loadConfig({ TEMPORAL_RETENTION: '72h' }).TEMPORAL_RETENTION).toBe(72 * 3600);
  expect(parseRetention('90m')).toBe(5400);
  expect(parseRetention(' 86400s ')).toBe(86400);
  expect(formatDuration(72 * 3600)).toBe('3d');
  expect(formatDuration(5400)).toBe('90m');
  expect(formatDuration(90061)).toBe('90061s');
});

test('a bad TEMPORAL_RETENTION names the variable and says what is wrong', () => {
  const bad = (v: string) => () => loadConfig({ TEMPORAL_RETENTION: v });
  expect(bad('30 days')).toThrow(ConfigError);
  expect(bad('30 days')).toThrow(/TEMPORAL_RETENTION: "30 days" is not a duration like 30d, 72h/);
  expect(bad('1.5d')).toThrow(/not a duration/);
  expect(bad('-1d')).toThrow(/not a duration/);
  expect(bad('30m')).toThrow(/TEMPORAL_RETENTION: "30m" is under the minimum of 1h/);
});
