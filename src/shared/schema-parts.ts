/**
 * Small schemas shared by the rule, user and timing schemas (schemas.ts, timing-schemas.ts), in a
 * module of their own so that neither imports the other.
 */
import { z } from 'zod';
import { missingDollarMessage, pathProblem } from './paths';
import { parseTemplate } from './templates';
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

/** The hint for a path written without `$`, in the form right for the fact in use. */
export function factPathProblem(v: { fact: string; path?: string }, ctx: z.RefinementCtx): void {
  if (v.path !== undefined && !v.path.startsWith('$'))
    ctx.addIssue({ code: 'custom', path: ['path'], message: missingDollarMessage(v.path, v.fact) });
}

/** `min` 1 for parts that must not be empty: a check on the string itself, so the OpenAPI doc shows it. */
export const template = (max: number, min = 0) =>
  (min ? z.string().min(min) : z.string())
    .max(max)
    .superRefine((text, ctx) => {
      try {
        parseTemplate(text, true);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `template does not parse: ${(err as Error).message}` });
      }
    })
    .meta({
      description:
        "Text with `{{fact.path}}` placeholders (`{{job.number}}`, `{{job['first name']}}`); values are substituted, never evaluated.",
    });

/** UTF-8 size of a JSON value as stored. Only called on values the API has already depth-checked. */
export const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');

export const jsonObject = (maxBytes: number, what: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((o) => jsonBytes(o) <= maxBytes, `must be at most ${maxBytes / 1024} KB as JSON`)
    .meta({ description: `${what} (a JSON object of at most ${maxBytes / 1024} KB)` });

const E164 = /^\+[1-9]\d{6,14}$/;
export const phoneSchema = z
  .string()
  .max(16)
  .regex(E164, 'must be an E.164 phone number such as +15551234567');
/**
 * zod's email pattern with DNS label rules (1-63 characters, no dash at either end), and a local part
 * of at most 64 characters as a check of its own (a look-ahead in the pattern would be lost on most
 * OpenAPI tooling). The doc says `format: email`, which excludes both; the API now agrees with it.
 */
const EMAIL =
  /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
export const emailSchema = z
  .email({ pattern: EMAIL, error: 'must be a valid email address' })
  .max(254)
  .refine((e) => e.indexOf('@') <= 64, 'must be a valid email address');

export const templateIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be a slug: lowercase letters, digits and dashes (at most 100)')
  .meta({
    description: "The account's own slug for the template.",
    examples: ['new-high-value-job-template'],
  });

/** JSON Schema: `field` is present and a non-empty string. */
export const nonEmpty = (field: string) => ({
  required: [field],
  properties: { [field]: { type: 'string', minLength: 1 } },
});
export const TEXT_OR_HTML = [nonEmpty('text'), nonEmpty('html')];

/**
 * Fields the API sets; accepted back (GET then PUT round-trips, documents exported from elsewhere such
 * as the seed rules with their `_id`) and ignored. `accountId` always comes from the API key: one in
 * the body is never read.
 */
const ignored = z.unknown().optional().meta({ description: 'Set by the API; ignored when sent.' });
export const readOnly = {
  id: ignored,
  _id: ignored,
  accountId: z.unknown().optional().meta({ description: "Ignored: the account is the API key's." }),
  version: ignored,
  createdAt: ignored,
  updatedAt: ignored,
  warnings: ignored,
};
