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
import { createHash } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import axios, { type AxiosResponse } from 'axios';
import type { Transporter } from 'nodemailer';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { AccountEntity } from '../db/entities';
import { consentFor, type Consent } from '../services/suppressions';
import { FAILURE_TYPES } from '../shared/constants';
import { newId } from '../shared/ids';
import { maskText, urlHost } from '../shared/mask';
import { signingSecrets, signWebhook, standardWebhookHeaders } from '../shared/signing';
import { smsTooLong } from '../shared/sms';
import { unsubscribeToken, unsubscribeUrl } from '../shared/unsubscribe';
import { guardedLookup, isIpLiteral, normalizeHost, refuseAddress, type Resolver } from '../shared/net';
import type { DeliveryContext, DeliveryResult, RenderedAction } from '../shared/run-types';
import { emailSchema, phoneSchema } from '../shared/schemas';
import { deliverOnce, deliverToOutbox, type Channel } from './ledger';
import { errorCode, readSnippet, redactor, retryAfterMs, smtpSecrets, utf8Prefix } from './provider-io';

export const USER_AGENT = 'CRM-Automation-Engine/0.1 (+webhooks)';
/** Whole-request deadlines (connect, send, response headers and the first KB of the body). */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const TWILIO_TIMEOUT_MS = 15_000;
/** Below the delivery activities' 1 minute startToCloseTimeout, so an attempt ends with a clear error. */
export const EMAIL_TIMEOUT_MS = 45_000;
export { MAX_RETRY_AFTER_MS } from './provider-io';
/** How much of an error response is kept for the execution log. */
export const BODY_SNIPPET_BYTES = 1024;

type Sms = Extract<RenderedAction, { type: 'sms' }>;
type Email = Extract<RenderedAction, { type: 'email' }>;
type Webhook = Extract<RenderedAction, { type: 'webhook' }>;

export interface ChannelDeps {
  db: DataSource;
  config: Config;
  mailer?: Transporter;
  /** Tests shorten the deadlines; the product always runs with the defaults above. */
  timeouts?: { webhookMs?: number; twilioMs?: number; emailMs?: number };
  /** DNS for webhook targets; `dns.lookup` unless a test injects one. */
  resolve?: Resolver;
}

/** What the execution log shows about a failed attempt (ApplicationFailure details[0]). */
export interface FailureDetails {
  channel: Channel;
  attempt: number;
  status?: number;
  /** Twilio's error code, or the SMTP client's error code. */
  code?: number | string;
  /** The first KB of the provider's response. */
  body?: string;
  retryAfterMs?: number;
}

type Info = Omit<FailureDetails, 'channel' | 'attempt'>;

export { signWebhook } from '../shared/signing';
export { retryAfterMs } from './provider-io';

const attemptNo = () => Context.current().info.attempt;

export function createChannelActivities({ db, config, mailer, timeouts = {}, resolve }: ChannelDeps) {
  const allow = config.WEBHOOK_ALLOWED_HOSTS;
  const webhookMs = timeouts.webhookMs ?? WEBHOOK_TIMEOUT_MS;
  const twilioMs = timeouts.twilioMs ?? TWILIO_TIMEOUT_MS;
  const emailMs = timeouts.emailMs ?? EMAIL_TIMEOUT_MS;
  const lookup = guardedLookup(allow, resolve ?? (dns.lookup as unknown as Resolver));
  // keepAlive off: each request resolves and checks its target afresh.
  const httpAgent = new http.Agent({ keepAlive: false, lookup });
  const httpsAgent = new https.Agent({ keepAlive: false, lookup });
  const twilio = config.twilio;
  const configRedact = redactor([
    twilio?.authToken,
    twilio ? `${twilio.accountSid}:${twilio.authToken}` : undefined,
    ...smtpSecrets(config.SMTP_URL),
  ]);

  function failure(
    kind: 'permanent' | 'transient',
    channel: Channel,
    message: string,
    info: Info = {},
    redact: (s: string) => string = configRedact,
  ): ApplicationFailure {
    const details: FailureDetails = { channel, attempt: attemptNo() };
    for (const [k, v] of Object.entries(info)) if (v !== undefined) Object.assign(details, { [k]: v });
    if (details.body !== undefined) details.body = maskText(configRedact(redact(details.body)));
    return ApplicationFailure.create({
      message: maskText(configRedact(redact(message))),
      type: kind === 'permanent' ? FAILURE_TYPES.permanent : FAILURE_TYPES.transient,
      nonRetryable: kind === 'permanent',
      details: [details],
      ...(kind === 'transient' && info.retryAfterMs !== undefined && { nextRetryDelay: info.retryAfterMs }),
    });
  }

  async function accountSecrets(accountId: string): Promise<string[]> {
    // Read on every send (one indexed row): a rotated secret applies at once.
    const account = await db.getRepository(AccountEntity).findOne({
      select: { id: true, webhookSecret: true, previousWebhookSecret: true, previousSecretValidUntil: true },
      where: { id: accountId },
    });
    if (!account) throw failure('permanent', 'webhook', `account ${accountId} no longer exists`);
    return signingSecrets(account);
  }

  /** The consent check: null when the message may go, else a suppressed result (nothing sent). */
  async function consent(
    ctx: DeliveryContext,
    channel: 'sms' | 'email',
    to: string,
    userId: string | undefined,
  ): Promise<Consent> {
    const c = await consentFor(db, ctx.accountId, channel, to, userId);
    if (!c) throw failure('permanent', channel, `account ${ctx.accountId} no longer exists`);
    return c;
  }
  const suppressed = (reason: string): DeliveryResult => ({ providerId: null, via: 'suppressed', reason });

  const withAttempts = (r: DeliveryResult): DeliveryResult => ({ ...r, attempts: attemptNo() });

  async function sendWebhook(ctx: DeliveryContext, message: Webhook): Promise<DeliveryResult> {
    let url: URL;
    try {
      url = new URL(message.url);
    } catch {
      throw failure('permanent', 'webhook', 'webhook URL is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw failure('permanent', 'webhook', `webhook URL scheme ${url.protocol} is not http(s)`);
    }
    const target = `${message.method} ${urlHost(url.toString())}`;
    // Literal IPs never reach the DNS lookup, so they are checked here; names are checked on connect.
    if (isIpLiteral(url.hostname)) {
      const refused = refuseAddress(url.hostname, normalizeHost(url.hostname), allow);
      if (refused) throw failure('permanent', 'webhook', `webhook target refused: ${refused}`);
    }
    const secrets = await accountSecrets(ctx.accountId);
    const redact = redactor(secrets);
    const result = await deliverOnce(db, ctx, 'webhook', async () => {
      const body = JSON.stringify(message.payload ?? null);
      const timestamp = Math.floor(Date.now() / 1000);
      const deadline = AbortSignal.timeout(webhookMs);
      const cancelled = Context.current().cancellationSignal;
      const signal = AbortSignal.any([cancelled, deadline]);
      let res: AxiosResponse<Readable>;
      try {
        res = await axios.request<Readable>({
          url: url.toString(),
          method: message.method,
          data: body,
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': USER_AGENT,
            'Idempotency-Key': ctx.idempotencyKey,
            'X-Signature': signWebhook(secrets, body, timestamp),
            ...standardWebhookHeaders(secrets, ctx.idempotencyKey, body, timestamp),
          },
          httpAgent,
          httpsAgent,
          // No proxy from the environment: it would connect to targets this process never checked.
          proxy: false,
          maxRedirects: 0,
          responseType: 'stream',
          decompress: false,
          validateStatus: () => true,
          signal,
        });
      } catch (err) {
        if (cancelled.aborted) throw new CancelledFailure('delivery cancelled');
        if (deadline.aborted) {
          throw failure('transient', 'webhook', `${target} timed out after ${webhookMs} ms`, {}, redact);
        }
        const code = errorCode(err);
        if (code === 'EINTERNALADDRESS') {
          throw failure(
            'permanent',
            'webhook',
            `webhook target refused: ${(err as Error).message}`,
            {},
            redact,
          );
        }
        throw failure(
          'transient',
          'webhook',
          `${target} unreachable: ${code ?? (err as Error).message}`,
          { code },
          redact,
        );
      }
      const status = res.status;
      if (status >= 200 && status < 300) {
        res.data.destroy();
        return { providerId: null, via: 'provider', status };
      }
      const snippet = await readSnippet(res.data, BODY_SNIPPET_BYTES, signal);
      const info = { status, body: snippet };
      if (status >= 300 && status < 400) {
        const location = typeof res.headers.location === 'string' ? urlHost(res.headers.location) : '?';
        throw failure(
          'permanent',
          'webhook',
          `${target} answered ${status} redirecting to ${location}; redirects are not followed, update the rule's URL`,
          info,
          redact,
        );
      }
      if (status === 408 || status === 429 || status >= 500) {
        throw failure(
          'transient',
          'webhook',
          `${target} answered ${status}`,
          { ...info, retryAfterMs: retryAfterMs(res.headers['retry-after']) },
          redact,
        );
      }
      throw failure('permanent', 'webhook', `${target} answered ${status}`, info, redact);
    });
    return withAttempts(result);
  }

  async function sendSms(ctx: DeliveryContext, message: Sms): Promise<DeliveryResult> {
    if (!phoneSchema.safeParse(message.to).success) {
      throw failure('permanent', 'sms', `recipient "${message.to}" is not an E.164 phone number`);
    }
    const tooLong = smsTooLong(message.body);
    if (tooLong) throw failure('permanent', 'sms', tooLong);
    const result = await deliverOnce(db, ctx, 'sms', async () => {
      const c = await consent(ctx, 'sms', message.to, message.userId);
      if (c.suppressed) return suppressed(c.suppressed);
      if (!twilio) {
        return deliverToOutbox(db, ctx, 'sms', newId('msg'), { recipient: message.to, body: message.body });
      }
      const cancelled = Context.current().cancellationSignal;
      const deadline = AbortSignal.timeout(twilioMs);
      let res: AxiosResponse<string>;
      try {
        res = await axios.post<string>(
          `${twilio.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(twilio.accountSid)}/Messages.json`,
          new URLSearchParams({
            To: message.to,
            // The account's own number, else the shared sender: a number, or the Messaging Service.
            ...(c.smsFrom || twilio.from
              ? { From: (c.smsFrom ?? twilio.from)! }
              : { MessagingServiceSid: twilio.messagingServiceSid! }),
            Body: message.body,
            StatusCallback: `${config.PUBLIC_URL}/webhooks/twilio/status`,
          }).toString(),
          {
            auth: { username: twilio.accountSid, password: twilio.authToken },
            headers: {
              'Content-Type': 'application/x-www-form-urlencoded',
              Accept: 'application/json',
              'User-Agent': USER_AGENT,
            },
            // A redirect must not carry the credentials anywhere else.
            maxRedirects: 0,
            responseType: 'text',
            transformResponse: (d: unknown) => d,
            maxContentLength: 1024 * 1024,
            validateStatus: () => true,
            signal: AbortSignal.any([cancelled, deadline]),
          },
        );
      } catch (err) {
        if (cancelled.aborted) throw new CancelledFailure('delivery cancelled');
        if (deadline.aborted) throw failure('transient', 'sms', `Twilio timed out after ${twilioMs} ms`);
        const code = errorCode(err);
        throw failure('transient', 'sms', `Twilio unreachable: ${code ?? (err as Error).message}`, { code });
      }
      let data: { sid?: unknown; code?: unknown; message?: unknown } = {};
      try {
        data = JSON.parse(res.data) ?? {};
      } catch {
        /* not JSON */
      }
      if (res.status >= 200 && res.status < 300) {
        return {
          providerId: typeof data.sid === 'string' ? data.sid : null,
          via: 'provider',
          status: res.status,
        };
      }
      const code = typeof data.code === 'number' || typeof data.code === 'string' ? data.code : undefined;
      const why = typeof data.message === 'string' ? `: ${data.message.slice(0, 300)}` : '';
      const text = `Twilio answered ${res.status}${code !== undefined ? ` (error ${code})` : ''}${why}`;
      const info = {
        status: res.status,
        code,
        body: utf8Prefix(Buffer.from(String(res.data ?? '')), BODY_SNIPPET_BYTES),
      };
      // 401 / 20003: our credentials, not this message (see the module comment).
      if (res.status === 429 || res.status >= 500 || res.status === 401) {
        throw failure('transient', 'sms', text, {
          ...info,
          retryAfterMs: retryAfterMs(res.headers['retry-after']),
        });
      }
      // Any other answer (21211 invalid To, 21610 unsubscribed…) will not change.
      throw failure('permanent', 'sms', text, info);
    });
    return withAttempts(result);
  }

  async function sendEmail(ctx: DeliveryContext, message: Email): Promise<DeliveryResult> {
    if (!emailSchema.safeParse(message.to).success) {
      throw failure('permanent', 'email', `recipient "${message.to}" is not a valid email address`);
    }
    const send = deliverOnce(db, ctx, 'email', async () => {
      // Transactional mail (a receipt the recipient asked for) is not subject to the suppression list.
      if (!message.transactional) {
        const c = await consent(ctx, 'email', message.to, message.userId);
        if (c.suppressed) return suppressed(c.suppressed);
      }
      if (!mailer) {
        return deliverToOutbox(db, ctx, 'email', newId('msg'), {
          recipient: message.to,
          subject: message.subject,
          body: message.text ?? null,
          html: message.html ?? null,
        });
      }
      try {
        const info = await mailer.sendMail({
          from: config.EMAIL_FROM,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          // The same on every attempt: mail systems that see a duplicate can recognise it.
          messageId: messageIdFor(ctx.idempotencyKey, config.EMAIL_FROM),
          headers: emailHeaders(ctx.accountId, message),
        });
        return { providerId: String(info.messageId ?? ''), via: 'provider' };
      } catch (err) {
        throw classifySmtp(err);
      }
    });
    // The send itself keeps running past the deadline (SMTP cannot be aborted mid-transaction); a
    // retry in this process waits for it through the ledger instead of sending again.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(failure('transient', 'email', `SMTP did not finish within ${emailMs} ms`)),
        emailMs,
      );
    });
    try {
      return withAttempts(await Promise.race([send, deadline]));
    } finally {
      clearTimeout(timer);
    }
  }

  /** RFC 3834 on every automated email; RFC 8058 one-click unsubscribe unless transactional. */
  function emailHeaders(accountId: string, message: Email): Record<string, string> {
    const headers: Record<string, string> = { 'Auto-Submitted': 'auto-generated' };
    if (message.transactional || !config.UNSUBSCRIBE_SECRET) return headers;
    const token = unsubscribeToken(config.UNSUBSCRIBE_SECRET, accountId, message.to.toLowerCase());
    headers['List-Unsubscribe'] = `<${unsubscribeUrl(config.PUBLIC_URL, token)}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    return headers;
  }

  function classifySmtp(err: unknown): ApplicationFailure {
    const e = err as { responseCode?: number; code?: string; command?: string; message?: string };
    const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
    const info = { status, code: e.code };
    const message = String(e.message ?? err).slice(0, 500);
    // The server refused this recipient or this message for good (550 no such user, 552, 554…).
    if (status !== undefined && status >= 500 && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE')) {
      return failure('permanent', 'email', `SMTP refused the message: ${message}`, info);
    }
    // nodemailer refused the envelope before talking to the server (no valid recipient).
    if (e.code === 'EENVELOPE' && status === undefined) {
      return failure('permanent', 'email', `invalid envelope: ${message}`, info);
    }
    // 4xx, connection and TLS failures, and authentication (a configuration fix recovers it).
    return failure('transient', 'email', `SMTP failed${e.code ? ` (${e.code})` : ''}: ${message}`, info);
  }

  return { sendWebhook, sendSms, sendEmail };
}

/** `<hash@domain>` from the idempotency key: stable across attempts, reveals nothing of the run. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'crm-automation.invalid';
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `<${hash}@${domain}>`;
}
