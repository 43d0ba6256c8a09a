import pino from 'pino';

/** JSON lines; anything that can carry a secret is redacted wherever it appears. */
export function createLogger(level: string, name: string) {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        '*.apiKey',
        '*.webhookSecret',
        '*.password',
        '*.authToken',
        'config.ADMIN_TOKEN',
        'config.TWILIO_AUTH_TOKEN',
        'config.SMTP_URL',
        'config.DATABASE_URL',
        'config.TEMPORAL_API_KEY',
      ],
      censor: '[redacted]',
    },
  });
}
export type Logger = ReturnType<typeof createLogger>;
