/**
 * Small schemas shared by the rule, user and timing schemas (schemas.ts, timing-schemas.ts), in a
 * module of their own so that neither imports the other.
 */
import { z } from 'zod';
import { pathProblem } from './paths';
import { TZDATA_NAMES } from './tz-names';

const RESERVED_NAMES = new Set(['__proto__', 'prototype', 'constructor']);

export const factName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a fact name such as job or user')
  .refine((n) => !RESERVED_NAMES.has(n), 'must not be __proto__, prototype or constructor')
  .meta({ description: 'A top-level key of the event payload, or `event` / `user`.' });

export const safePath = z
  .string()
  .max(256)
  .superRefine((p, ctx) => {
    // A path without `$` is reported by the object that knows its fact (see factPathProblem in schemas.ts).
    const problem = p.startsWith('$') ? pathProblem(p) : null;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description:
      "An RFC 9535 singular path: `$`, `.name`, `['quoted name']` and `[index]` only (no filters, scripts, wildcards or recursive descent).",
    examples: ['$.assignedTechnician.phone', "$.client['first name']"],
  });

/**
 * The one time-zone check (rules' schedules and windows, users, accounts): a name both Node's Intl and
 * the Temporal server's tz database know, spelled exactly as the tz database spells it. Intl alone
 * takes `US/Pacific-New` or `america/chicago`, which Temporal then refuses for a Schedule.
 */
export function isTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || !TZDATA_NAMES.has(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const timezoneSchema = z
  .string()
  .refine(isTimeZone, 'must be an IANA time zone such as America/Chicago')
  .meta({ examples: ['America/Chicago'] });

const EVENT_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/i;
export const eventName = z
  .string()
  .max(200)
  .regex(EVENT_NAME, 'must be a dotted event name such as job.created')
  .meta({ examples: ['job.status.changed'] });
