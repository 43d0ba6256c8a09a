/**
 * Email over SMTP with nodemailer (or the outbox when SMTP is not configured): consent checked unless
 * transactional, a stable Message-ID, RFC 3834 and RFC 8058 headers, SMTP replies classified.
 */
import { createHash } from 'node:crypto';
import type { ApplicationFailure } from '@temporalio/common';
import type { Transporter } from 'nodemailer';
import { newId } from '../shared/ids';
import type { DeliveryContext, DeliveryResult } from '../shared/run-types';
import { emailSchema } from '../shared/schemas';
import { unsubscribeToken, unsubscribeUrl } from '../shared/unsubscribe';
import type { DeliveryKit, Email } from './delivery-kit';
import { deliverOnce, deliverToOutbox } from './ledger';

export function emailSender(
  { db, config, failure, consent, suppressed, withAttempts }: DeliveryKit,
  mailer: Transporter | undefined,
  emailMs: number,
) {
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

  return sendEmail;
}

/** `<hash@domain>` from the idempotency key: stable across attempts, reveals nothing of the run. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'crm-automation.invalid';
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `<${hash}@${domain}>`;
}
