/**
 * When a rule run sends: a delay relative to a date in the event (`until`), the correlation key of
 * rules that follow one job, and send windows. Validated here; computed by shared/send-time.ts.
 */
import { z } from 'zod';
import { factName, safePath, timezoneSchema } from './schema-parts';

export const DELAY_UNITS = ['seconds', 'minutes', 'hours', 'days'] as const;
export const UNIT_MS = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
export const MAX_DELAY_MS = 365 * UNIT_MS.days;
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A fact path, for `until` and `key`. */
export const factPathSchema = z
  .object({ fact: factName, path: safePath })
  .strict()
  .meta({ id: 'FactPath', description: 'The value at `path` of `fact` (a payload key or `event`).' });

export const untilDelaySchema = z
  .object({
    until: factPathSchema.meta({
      description:
        'An ISO 8601 date with a time and an offset or `Z`, read from the event when the run starts.',
    }),
    offset: z
      .object({ value: z.number().int(), unit: z.enum(DELAY_UNITS) })
      .strict()
      .refine((o) => Math.abs(o.value * UNIT_MS[o.unit]) <= MAX_DELAY_MS, {
        message: 'must be at most 365 days either way',
        path: ['value'],
      })
      .default({ value: 0, unit: 'minutes' })
      .meta({ description: 'Signed: negative is before the date (`-24 hours`).' }),
    ifPast: z
      .enum(['skip', 'sendNow'])
      .default('skip')
      .meta({ description: 'When the send time has already passed: end the run skipped, or send at once.' }),
  })
  .strict()
  .meta({
    id: 'UntilDelay',
    description:
      'Send at a date in the event plus `offset`. A missing or unparsable date ends the run skipped.',
  });
export type UntilDelay = z.infer<typeof untilDelaySchema>;

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const clock = z.string().regex(HHMM, 'must be a time HH:MM such as 08:00');

export const windowSchema = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .max(7)
      .default([...WEEKDAYS])
      .meta({
        description: 'The days the window opens (a window crossing midnight belongs to its start day).',
      }),
    start: clock,
    end: clock.meta({ description: 'Before `start` for a window crossing midnight (21:00-07:00).' }),
    timezone: z
      .union([z.literal('user'), timezoneSchema])
      .default('user')
      .meta({ description: "`user`: the event user's timezone, else the account's; or an IANA name." }),
  })
  .strict()
  .refine((w) => w.start !== w.end, { message: 'must differ from start', path: ['end'] })
  .meta({
    id: 'SendWindow',
    description:
      'When a wait ends outside the window, the run waits until it next opens. A start that does not exist on a DST day opens at the next valid minute.',
  });
export type SendWindow = z.infer<typeof windowSchema>;

/** What a dry run shows of a rule's send time (see shared/send-time.ts). */
export const sendTimeSchema = z
  .union([
    z.object({ status: z.literal('skip'), reason: z.string() }),
    z.object({
      status: z.literal('planned'),
      sendAt: z.iso.datetime().meta({ description: 'When a run for this event, received now, would send.' }),
      dueAt: z.iso.datetime().meta({ description: 'The send time before the window moved it.' }),
      basis: z
        .string()
        .meta({ description: 'How it was computed: the date and offset, or ingest and delay.' }),
      window: z
        .object({ opensAt: z.iso.datetime(), timezone: z.string() })
        .nullable()
        .meta({ description: 'Set when the send window moved the send time.' }),
      timezone: z
        .string()
        .nullable()
        .meta({ description: "The window's timezone, resolved (null without one)." }),
    }),
  ])
  .meta({ id: 'SendTime', description: 'When a real run would send, or why it would be skipped.' });
