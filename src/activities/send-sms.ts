/**
 * SMS through Twilio's REST API (or the outbox when Twilio is not configured), after the consent check.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import axios, { type AxiosResponse } from 'axios';
import { newId } from '../shared/ids';
import type { DeliveryContext, DeliveryResult } from '../shared/run-types';
import { phoneSchema } from '../shared/schemas';
import { smsTooLong } from '../shared/sms';
import { BODY_SNIPPET_BYTES, USER_AGENT, type DeliveryKit, type Sms } from './delivery-kit';
import { deliverOnce, deliverToOutbox } from './ledger';
import { errorCode, retryAfterMs, utf8Prefix } from './provider-io';

export function smsSender(
  { db, config, failure, consent, suppressed, withAttempts }: DeliveryKit,
  twilioMs: number,
) {
  const twilio = config.twilio;

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

  return sendSms;
}
