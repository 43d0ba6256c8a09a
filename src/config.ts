import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseEncryptionKeys } from './codec';

const port = z.coerce.number().int().min(1).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const DURATION_UNITS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
/** The dev server takes less, but runs that vanish within the hour make the execution log useless. */
const MIN_RETENTION_SECONDS = 3600;

/**
 * TEMPORAL_RETENTION: how long Temporal keeps closed runs (their history and their rows in the
 * execution log), e.g. `30d` or `72h`; at least an hour. The dev server, the cluster
 * and compose all apply this value (Temporal Cloud and a default cluster may insist on at least 1d).
 */
export function parseRetention(value: string): number {
  const m = /^\s*(\d+)\s*([smhd])\s*$/.exec(value);
  if (!m) throw new Error(`"${value}" is not a duration like 30d, 72h, 90m or 86400s`);
  const seconds = Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS];
  if (seconds < MIN_RETENTION_SECONDS) throw new Error(`"${value}" is under the minimum of 1h`);
  return seconds;
}

/** Seconds as the shortest exact form parseRetention reads back: 2592000 → `30d`. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of Object.entries(DURATION_UNITS).reverse())
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

const schema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  EMBEDDED_PG_PORT: port.default(54329),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('crm-automation'),
  TEMPORAL_DEV_PORT: port.default(7233),
  /** Seconds (parsed from `30d`, `72h`, …): see parseRetention. */
  TEMPORAL_RETENTION: z
    .string()
    .default('30d')
    .transform((v, ctx) => {
      try {
        return parseRetention(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  TEMPORAL_DEV_UI_PORT: port.default(8233),
  /** The Temporal Web UI the management UI links runs to (default: the dev server's, without TEMPORAL_ADDRESS). */
  TEMPORAL_UI_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  TEMPORAL_TLS_CERT: optionalString,
  TEMPORAL_TLS_KEY: optionalString,
  TEMPORAL_API_KEY: optionalString,
  ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  SMTP_URL: optionalString.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  EMAIL_FROM: z.string().default('CRM Automation <automation@localhost>'),
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_FROM: optionalString,
  TWILIO_MESSAGING_SERVICE_SID: optionalString,
  TWILIO_API_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com'),
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EVENTS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  // Wrong API keys or admin tokens per client address and minute before they answer 429 (0 = off).
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).default(10),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(500),
  // kid:base64key[,…]: payloads are encrypted with the first, decrypted with the one they name (src/codec.ts).
  PAYLOAD_ENCRYPTION_KEYS: optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    try {
      return parseEncryptionKeys(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  // Browser origins (the Temporal Web UI) allowed to call /codec/* from loopback without a token.
  CODEC_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    ),
  // Event starts one account may have in flight at once at the API (0 = no bound); see docs/performance.md.
  EVENTS_MAX_IN_FLIGHT_PER_ACCOUNT: z.coerce.number().int().min(0).default(32),
  /** Where the outside world reaches the API: unsubscribe links and the Twilio signature base. */
  PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** Signs unsubscribe tokens (`npm start` generates one into the data dir). */
  UNSUBSCRIBE_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** How long a rotated-out webhook secret still signs (every webhook carries both signatures). */
  WEBHOOK_SECRET_OVERLAP_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 30)
    .default(24),
});

export type Config = Omit<z.infer<typeof schema>, 'PUBLIC_URL'> & {
  /** Without a trailing slash; defaults to http://127.0.0.1:$PORT. */
  PUBLIC_URL: string;
  /** The Twilio channel is live only when the SID, the token and a sender (From or a Messaging Service) are set. */
  twilio?: {
    accountSid: string;
    authToken: string;
    from?: string;
    messagingServiceSid?: string;
    baseUrl: string;
  };
};

export class ConfigError extends Error {}

/** Parses and validates the environment once; a bad value names its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  const sender = c.TWILIO_FROM ?? c.TWILIO_MESSAGING_SERVICE_SID;
  const twilioVars = [c.TWILIO_ACCOUNT_SID, c.TWILIO_AUTH_TOKEN, sender];
  if (twilioVars.some(Boolean) && !twilioVars.every(Boolean)) {
    throw new ConfigError(
      'invalid configuration: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID) must be set together',
    );
  }
  return {
    ...c,
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://127.0.0.1:${c.PORT}`).replace(/\/+$/, ''),
    twilio: c.TWILIO_ACCOUNT_SID
      ? {
          accountSid: c.TWILIO_ACCOUNT_SID,
          authToken: c.TWILIO_AUTH_TOKEN!,
          ...(c.TWILIO_FROM && { from: c.TWILIO_FROM }),
          ...(c.TWILIO_MESSAGING_SERVICE_SID && { messagingServiceSid: c.TWILIO_MESSAGING_SERVICE_SID }),
          baseUrl: c.TWILIO_API_BASE_URL,
        }
      : undefined,
  };
}

/** The database the processes use: DATABASE_URL, else the embedded server `npm start` runs. */
export function databaseUrl(config: Config): string {
  return config.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${config.EMBEDDED_PG_PORT}/crm`;
}

/** Base URL of the Temporal Web UI (no trailing slash), or null when there is none we know of. */
export function temporalUiUrl(config: Config): string | null {
  if (config.TEMPORAL_UI_URL) return config.TEMPORAL_UI_URL.replace(/\/+$/, '');
  return config.TEMPORAL_ADDRESS ? null : `http://127.0.0.1:${config.TEMPORAL_DEV_UI_PORT}`;
}

export function temporalAddress(config: Config): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
}

/** Where `npm start` keeps the payload keys it generated (mode 0600, like the admin token). */
export const dataDirKeysFile = (config: Config): string =>
  path.resolve(config.DATA_DIR, 'payload-encryption-keys');

/**
 * PAYLOAD_ENCRYPTION_KEYS, else the keys `npm start` generated into DATA_DIR: so the CLI and scripts run
 * next to `npm start` read what it wrote. Other processes (API, worker) take the variable only.
 */
export function withDataDirKeys(config: Config): Config {
  const file = dataDirKeysFile(config);
  if (config.PAYLOAD_ENCRYPTION_KEYS || !existsSync(file)) return config;
  try {
    return { ...config, PAYLOAD_ENCRYPTION_KEYS: parseEncryptionKeys(readFileSync(file, 'utf8').trim()) };
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${file}: ${(err as Error).message}`);
  }
}
