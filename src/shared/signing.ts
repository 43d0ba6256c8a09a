/**
 * Webhook signatures, two schemes over the same body (see docs/channels.md for the receiver's side):
 *
 * - `X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (Stripe's scheme). Key: the whole
 *   secret string as UTF-8, `whsec_` included, exactly as before: old secrets verify unchanged.
 * - Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256
 *   of "id.timestamp.body">`. Key: the bytes the part after `whsec_` encodes, as the standardwebhooks
 *   and svix libraries read it. New secrets are standard base64; secrets made before are base64url
 *   (the same bytes: a receiver swaps `-`→`+` and `_`→`/` to hand one to those libraries).
 *
 * During a rotation's overlap both the new and the previous secret sign: two `v1=` entries in
 * X-Signature, two space-separated `v1,` entries in webhook-signature.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** `whsec_` + standard base64 of 24 random bytes: what Standard Webhooks libraries decode. */
export const newWebhookSecret = () => `${WEBHOOK_SECRET_PREFIX}${randomBytes(24).toString('base64')}`;

/** The HMAC key of the Standard Webhooks signature: Node's base64 decoder reads both alphabets. */
export function standardWebhooksKey(secret: string): Buffer {
  const body = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  return Buffer.from(body, 'base64');
}

/** `t=<unix>,v1=<hex>[,v1=<hex>…]`, one v1 per secret. */
export function signWebhook(secrets: string | string[], body: string, unixSeconds: number): string {
  const list = Array.isArray(secrets) ? secrets : [secrets];
  const macs = list.map(
    (s) => `v1=${createHmac('sha256', s).update(`${unixSeconds}.${body}`).digest('hex')}`,
  );
  return [`t=${unixSeconds}`, ...macs].join(',');
}

/** The Standard Webhooks headers for one delivery; `id` is the idempotency key. */
export function standardWebhookHeaders(
  secrets: string[],
  id: string,
  body: string,
  unixSeconds: number,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const signed = `${id}.${unixSeconds}.${body}`;
  const sigs = secrets.map(
    (s) => `v1,${createHmac('sha256', standardWebhooksKey(s)).update(signed).digest('base64')}`,
  );
  return {
    'webhook-id': id,
    'webhook-timestamp': String(unixSeconds),
    'webhook-signature': sigs.join(' '),
  };
}

/** The secrets that sign now: the current one, and the previous one while its overlap lasts. */
export function signingSecrets(
  account: {
    webhookSecret: string;
    previousWebhookSecret: string | null;
    previousSecretValidUntil: Date | null;
  },
  now = Date.now(),
): string[] {
  const { previousWebhookSecret: prev, previousSecretValidUntil: until } = account;
  return prev && until && until.getTime() > now ? [account.webhookSecret, prev] : [account.webhookSecret];
}
