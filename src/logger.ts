/**
 * Logs are JSON lines (pino) on stdout. Every line that concerns a run carries what is known of
 * `accountId`, `ruleId`, `eventId` and `workflowId` (the API adds `accountId` and the request id; the
 * worker's interceptors add the rest), and anything that can hold a secret is redacted wherever it appears.
 */
import type { LogLevel as TemporalLogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino from 'pino';

const SECRET_KEYS = [
  'apiKey',
  'webhookSecret',
  'password',
  'authToken',
  'token',
  'secret',
  'authorization',
  'Authorization',
  'cookie',
  // An activity's task token lets its holder complete the activity.
  'taskToken',
];

const CONFIG_SECRETS = [
  'ADMIN_TOKEN',
  'TWILIO_AUTH_TOKEN',
  'SMTP_URL',
  'DATABASE_URL',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_KEY',
];

/** pino's redaction paths: the keys above at the top level and one level down, plus known headers. */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["X-Signature"]',
  '*.config.headers',
  ...CONFIG_SECRETS.map((k) => `config.${k}`),
  ...CONFIG_SECRETS,
];

export function createLogger(level: string, name: string, destination?: pino.DestinationStream) {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // The Temporal SDK reports failures under `error`; give them the same shape as `err`.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination) : pino(options);
}
export type Logger = ReturnType<typeof createLogger>;

const LEVELS: Record<TemporalLogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal Runtime's logger writing through pino: SDK messages, `Context.current().log` in
 * activities and `log` in workflows all come out as the same JSON lines, with the SDK's attributes
 * (workflowId, runId, activityType, taskQueue…) and ours (accountId, ruleId, eventId) as fields.
 */
export function temporalLogger(log: Logger): TemporalLogger {
  const write = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    // Symbol keys (the SDK's LogTimestamp) are dropped by pino; copy the string keys only.
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(meta ?? {})) fields[key] = (meta as Record<string, unknown>)[key];
    log[LEVELS[level] ?? 'info'](fields, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
