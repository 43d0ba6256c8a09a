/**
 * Delivery activities: SMS (Twilio's REST API), email (SMTP via nodemailer) and signed webhooks.
 *
 * - A channel without configuration (no SMTP_URL, no TWILIO_*) stores the rendered message in the
 *   account's outbox instead of failing. Webhooks are always sent for real.
 * - Every send goes through the delivery ledger (./ledger.ts): one delivery per idempotency key.
 * - Every failure is an ApplicationFailure of type PermanentDeliveryError (non-retryable: the same
 *   request can never succeed) or TransientDeliveryError (retried by the workflow's policy, after
 *   the provider's Retry-After when it sent one). Details carry `{channel, status, code, body,
 *   attempt}` for the execution log.
 * - Secrets (SMTP password, Twilio token, webhook secret) are scrubbed from every message and detail,
 *   and phone numbers and email addresses in them are masked (providers echo them); errors from the
 *   HTTP and SMTP clients are never passed on as causes (they hold request configs).
 * - SMS and email check consent first (consentFor in services/suppressions.ts, one indexed read):
 *   a suppressed recipient ends the delivery `via: 'suppressed'`, nothing sent, nothing retried.
 * - An authentication failure (Twilio 401 / 20003, SMTP EAUTH) is transient on both paths: it is the
 *   operator's configuration, not the message, that is wrong, and a fixed credential delivers what
 *   waited (within the 24 h retry window) instead of failing every run in the meantime.
 */
import {
  createDeliveryKit,
  EMAIL_TIMEOUT_MS,
  TWILIO_TIMEOUT_MS,
  WEBHOOK_TIMEOUT_MS,
  type ChannelDeps,
} from './delivery-kit';
import { emailSender } from './send-email';
import { smsSender } from './send-sms';
import { webhookSender } from './send-webhook';

export {
  BODY_SNIPPET_BYTES,
  EMAIL_TIMEOUT_MS,
  TWILIO_TIMEOUT_MS,
  USER_AGENT,
  WEBHOOK_TIMEOUT_MS,
  type ChannelDeps,
  type FailureDetails,
} from './delivery-kit';
export { messageIdFor } from './send-email';
export { MAX_RETRY_AFTER_MS, retryAfterMs } from './provider-io';
export { signWebhook } from '../shared/signing';

export function createChannelActivities({ db, config, mailer, timeouts = {}, resolve }: ChannelDeps) {
  const kit = createDeliveryKit({ db, config });
  return {
    sendWebhook: webhookSender(kit, timeouts.webhookMs ?? WEBHOOK_TIMEOUT_MS, resolve),
    sendSms: smsSender(kit, timeouts.twilioMs ?? TWILIO_TIMEOUT_MS),
    sendEmail: emailSender(kit, mailer, timeouts.emailMs ?? EMAIL_TIMEOUT_MS),
  };
}
