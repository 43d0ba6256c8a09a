/**
 * What the three delivery activities share: their deadlines, the failure they throw (typed, details
 * for the execution log, secrets scrubbed and recipients masked), the consent check and the account's
 * signing secrets. The module comment of ./channels.ts says the rules they follow.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Transporter } from 'nodemailer';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { AccountEntity } from '../db/entities';
import { consentFor, type Consent } from '../services/suppressions';
import { FAILURE_TYPES } from '../shared/constants';
import { maskText } from '../shared/mask';
import type { Resolver } from '../shared/net';
import type { DeliveryContext, DeliveryResult, RenderedAction } from '../shared/run-types';
import { signingSecrets } from '../shared/signing';
import type { Channel } from './ledger';
import { redactor, smtpSecrets } from './provider-io';

export const USER_AGENT = 'CRM-Automation-Engine/0.1 (+webhooks)';
/** Whole-request deadlines (connect, send, response headers and the first KB of the body). */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const TWILIO_TIMEOUT_MS = 15_000;
/** Below the delivery activities' 1 minute startToCloseTimeout, so an attempt ends with a clear error. */
export const EMAIL_TIMEOUT_MS = 45_000;
/** How much of an error response is kept for the execution log. */
export const BODY_SNIPPET_BYTES = 1024;

export type Sms = Extract<RenderedAction, { type: 'sms' }>;
export type Email = Extract<RenderedAction, { type: 'email' }>;
export type Webhook = Extract<RenderedAction, { type: 'webhook' }>;

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

const attemptNo = () => Context.current().info.attempt;

export function createDeliveryKit({ db, config }: Pick<ChannelDeps, 'db' | 'config'>) {
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

  return { db, config, failure, accountSecrets, consent, suppressed, withAttempts };
}

export type DeliveryKit = ReturnType<typeof createDeliveryKit>;
