/**
 * Delivery activities: SMS (Twilio's REST API), email (SMTP via nodemailer) and signed webhooks.
 * A channel without configuration writes to the account's outbox instead of failing. Every send
 * goes through the delivery ledger, and every failure is classified: permanent ones are
 * non-retryable, transient ones honour Retry-After.
 */
import { createHmac } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import axios, { type AxiosResponse } from 'axios';
import type { Transporter } from 'nodemailer';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { AccountEntity, OutboxEntity } from '../db/entities';
import { FAILURE_TYPES } from '../shared/constants';
import { newId } from '../shared/ids';
import { isAllowed, isInternalAddress, refuseHost } from '../shared/net';
import type { DeliveryContext, DeliveryResult, RenderedAction } from '../shared/run-types';
import { deliverOnce } from './ledger';

const USER_AGENT = 'CRM-Automation-Engine/0.1 (+webhooks)';
const WEBHOOK_TIMEOUT_MS = 10_000;

type Sms = Extract<RenderedAction, { type: 'sms' }>;
type Email = Extract<RenderedAction, { type: 'email' }>;
type Webhook = Extract<RenderedAction, { type: 'webhook' }>;

export interface ChannelDeps {
  db: DataSource;
  config: Config;
  mailer?: Transporter;
}

interface FailureInfo {
  status?: number;
  body?: string;
}

function attempt(): number {
  return Context.current().info.attempt;
}

export function permanent(message: string, info: FailureInfo = {}): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: FAILURE_TYPES.permanent,
    nonRetryable: true,
    details: [{ ...info, attempt: attempt() }],
  });
}

export function transient(
  message: string,
  info: FailureInfo & { retryAfterMs?: number } = {},
): ApplicationFailure {
  const { retryAfterMs, ...rest } = info;
  return ApplicationFailure.create({
    message,
    type: FAILURE_TYPES.transient,
    details: [{ ...rest, attempt: attempt() }],
    nextRetryDelay: retryAfterMs,
  });
}

/** Retry-After as seconds or an HTTP date; capped so a hostile server cannot park a run for days. */
export function retryAfterMs(header: unknown): number | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 10 * 60_000) : undefined;
}

const snippet = (data: unknown) =>
  (typeof data === 'string' ? data : JSON.stringify(data ?? '')).slice(0, 1024);

/** What an HTTP provider's status means for a retry. */
function classifyHttp(what: string, res: AxiosResponse): ApplicationFailure {
  const info = { status: res.status, body: snippet(res.data) };
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    return transient(`${what} answered ${res.status}`, {
      ...info,
      retryAfterMs: retryAfterMs(res.headers['retry-after']),
    });
  }
  return permanent(`${what} answered ${res.status}`, info);
}

function classifyNetwork(what: string, err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  const code = (err as { code?: string }).code;
  return transient(`${what} unreachable: ${code ?? (err as Error).message}`);
}

export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Resolves the target and refuses internal addresses at connect time, so a public name that
 * resolves to 10.0.0.1 (or changes its answer after validation) cannot reach inside.
 */
function safeLookup(allow: readonly string[]): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const bad = list.find(
        (a) => isInternalAddress(a.address) && !isAllowed(hostname, allow) && !isAllowed(a.address, allow),
      );
      if (bad) {
        const refused = Object.assign(new Error(`${hostname} resolves to internal address ${bad.address}`), {
          code: 'EINTERNALADDRESS',
        });
        return callback(refused, '', 0);
      }
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

export function createChannelActivities({ db, config, mailer }: ChannelDeps) {
  const lookup = safeLookup(config.WEBHOOK_ALLOWED_HOSTS);
  const httpAgent = new http.Agent({ keepAlive: true, lookup });
  const httpsAgent = new https.Agent({ keepAlive: true, lookup });
  const secrets = new Map<string, string>();

  async function webhookSecret(accountId: string): Promise<string> {
    let secret = secrets.get(accountId);
    if (!secret) {
      const account = await db.getRepository(AccountEntity).findOneBy({ id: accountId });
      if (!account) throw permanent('account no longer exists');
      secret = account.webhookSecret;
      secrets.set(accountId, secret);
    }
    return secret;
  }

  async function toOutbox(
    ctx: DeliveryContext,
    channel: string,
    m: Record<string, unknown>,
  ): Promise<DeliveryResult> {
    const id = newId('msg');
    await db
      .getRepository(OutboxEntity)
      .createQueryBuilder()
      .insert()
      .values({
        id,
        accountId: ctx.accountId,
        channel,
        workflowId: ctx.workflowId,
        ruleId: ctx.ruleId,
        idempotencyKey: ctx.idempotencyKey,
        ...m,
      })
      .orIgnore()
      .execute();
    return { providerId: id, via: 'outbox' };
  }

  const once = (ctx: DeliveryContext, channel: string, send: () => Promise<DeliveryResult>) =>
    deliverOnce(db, ctx, channel, send).then((r) => ({ ...r, attempts: attempt() }));

  return {
    async sendWebhook(ctx: DeliveryContext, message: Webhook): Promise<DeliveryResult> {
      return once(ctx, 'webhook', async () => {
        const url = new URL(message.url);
        const refused = refuseHost(url.hostname, config.WEBHOOK_ALLOWED_HOSTS);
        if (refused) throw permanent(`webhook target refused: ${refused}`);
        const body = JSON.stringify(message.payload);
        const timestamp = Math.floor(Date.now() / 1000);
        let res: AxiosResponse;
        try {
          res = await axios.request({
            url: message.url,
            method: message.method,
            data: body,
            headers: {
              'Content-Type': 'application/json',
              'User-Agent': USER_AGENT,
              'Idempotency-Key': ctx.idempotencyKey,
              'X-Signature': signWebhook(await webhookSecret(ctx.accountId), body, timestamp),
            },
            timeout: WEBHOOK_TIMEOUT_MS,
            maxRedirects: 0,
            httpAgent,
            httpsAgent,
            transformResponse: (d: unknown) => d,
            validateStatus: () => true,
            signal: Context.current().cancellationSignal,
          });
        } catch (err) {
          if ((err as { code?: string }).code === 'EINTERNALADDRESS')
            throw permanent(`webhook target refused: ${(err as Error).message}`);
          throw classifyNetwork('webhook', err);
        }
        if (res.status >= 300 && res.status < 400) {
          throw permanent(
            `webhook answered ${res.status} redirect to ${String(res.headers.location ?? '?')}; redirects are not followed`,
            { status: res.status },
          );
        }
        if (res.status >= 300) throw classifyHttp('webhook', res);
        return { providerId: null, via: 'provider', status: res.status };
      });
    },

    async sendSms(ctx: DeliveryContext, message: Sms): Promise<DeliveryResult> {
      return once(ctx, 'sms', async () => {
        const twilio = config.twilio;
        if (!twilio) return toOutbox(ctx, 'sms', { recipient: message.to, body: message.body });
        let res: AxiosResponse;
        try {
          res = await axios.post(
            `${twilio.baseUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(twilio.accountSid)}/Messages.json`,
            new URLSearchParams({ To: message.to, From: twilio.from, Body: message.body }).toString(),
            {
              auth: { username: twilio.accountSid, password: twilio.authToken },
              headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': USER_AGENT },
              timeout: 15_000,
              validateStatus: () => true,
              signal: Context.current().cancellationSignal,
            },
          );
        } catch (err) {
          throw classifyNetwork('Twilio', err);
        }
        if (res.status >= 300) {
          const code = (res.data as { code?: number; message?: string })?.code;
          const failure = classifyHttp(`Twilio${code ? ` error ${code}` : ''}`, res);
          throw failure;
        }
        return {
          providerId: String((res.data as { sid?: string }).sid ?? ''),
          via: 'provider',
          status: res.status,
        };
      });
    },

    async sendEmail(ctx: DeliveryContext, message: Email): Promise<DeliveryResult> {
      return once(ctx, 'email', async () => {
        if (!mailer) {
          return toOutbox(ctx, 'email', {
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
            headers: { 'X-Idempotency-Key': ctx.idempotencyKey },
          });
          return { providerId: String(info.messageId ?? ''), via: 'provider' };
        } catch (err) {
          const e = err as { responseCode?: number; code?: string; message: string };
          const info = { status: e.responseCode };
          // 5xx to RCPT/DATA or an address nodemailer rejects: the same message will never go through.
          if ((e.responseCode ?? 0) >= 500 || (e.code === 'EENVELOPE' && !e.responseCode)) {
            throw permanent(`SMTP refused the message: ${e.message}`, info);
          }
          throw transient(`SMTP failed: ${e.code ?? ''} ${e.message}`.trim(), info);
        }
      });
    },
  };
}
