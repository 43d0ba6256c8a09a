/**
 * Twilio's webhooks, signed with X-Twilio-Signature (not the API key; mounted before the JSON body
 * parser and outside requireAccount):
 * - POST /webhooks/twilio/inbound: STOP-like keywords suppress the sender's number for the accounts
 *   that text from the `To` number, START-like ones lift it, HELP is counted and logged.
 * - POST /webhooks/twilio/status: delivery receipts (StatusCallback) recorded on the ledger row.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { DataSource } from 'typeorm';
import type { Config } from '../../config';
import { AccountEntity } from '../../db/entities';
import { metrics } from '../../metrics';
import { normalizeAddress, writeSuppressions, type SuppressionWrite } from '../../services/suppressions';
import { ApiError } from '../../shared/errors';
import { maskRecipient } from '../../shared/mask';
import { validTwilioSignature, type TwilioParams } from '../../shared/twilio-signature';
import type { ApiDeps } from '../deps';
import { errors, type OpenApiPaths } from '../openapi-helpers';

/** Twilio's own opt-out keywords (Advanced Opt-Out defaults); the whole message, any case. */
export const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
export const START_WORDS = new Set(['START', 'YES', 'UNSTOP']);
export const HELP_WORDS = new Set(['HELP', 'INFO']);

/** Receipts only move forward: a late "sent" never overwrites "delivered". */
export const RECEIPT_RANK: Readonly<Record<string, number>> = {
  accepted: 0,
  scheduled: 0,
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
  canceled: 3,
  read: 4,
};

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

const form = express.urlencoded({ extended: false, limit: '64kb' });

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** 403 unless the request carries Twilio's signature of PUBLIC_URL + path and its form parameters. */
function verifyTwilio(config: Config) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const token = config.twilio?.authToken;
    const params = (req.body ?? {}) as TwilioParams;
    const url = config.PUBLIC_URL + req.originalUrl;
    if (!token || !validTwilioSignature(token, req.header('x-twilio-signature'), url, params)) {
      throw new ApiError(403, 'forbidden', 'missing or invalid X-Twilio-Signature');
    }
    next();
  };
}

/**
 * The accounts that text from `to`: the account whose own sender it is, else (the shared TWILIO_FROM,
 * or a number of the configured Messaging Service) every account without a sender of its own.
 */
async function accountsTextingFrom(
  db: DataSource,
  config: Config,
  to: string,
  messagingServiceSid: string,
): Promise<string[]> {
  const own = await db.getRepository(AccountEntity).find({ select: { id: true }, where: { smsFrom: to } });
  if (own.length) return own.map((a) => a.id);
  const t = config.twilio;
  const shared =
    (t?.from !== undefined && t.from === to) ||
    (t?.messagingServiceSid !== undefined && t.messagingServiceSid === messagingServiceSid);
  if (!shared) return [];
  const rows: { id: string }[] = await db.query(`SELECT id FROM accounts WHERE sms_from IS NULL`);
  return rows.map((r) => r.id);
}

export const twilioOpenApi: OpenApiPaths = {
  '/webhooks/twilio/inbound': {
    post: {
      tags: ['webhooks'],
      summary: 'Inbound SMS from Twilio (STOP / START / HELP)',
      description:
        'Configure as the number’s “A message comes in” webhook. Signed with `X-Twilio-Signature` over ' +
        '`PUBLIC_URL` + path and the form parameters; no API key. Answers empty TwiML.',
      operationId: 'twilioInbound',
      security: [],
      requestBody: {
        required: true,
        content: { 'application/x-www-form-urlencoded': { schema: { type: 'object' } } },
      },
      responses: {
        '200': { description: 'Empty TwiML', content: { 'text/xml': { schema: { type: 'string' } } } },
        ...errors(403),
      },
    },
  },
  '/webhooks/twilio/status': {
    post: {
      tags: ['webhooks'],
      summary: 'SMS delivery receipt from Twilio (StatusCallback)',
      description:
        'Every SMS is sent with this URL as `StatusCallback`. Records `MessageStatus` (and `ErrorCode`) on ' +
        'the delivery whose provider id is `MessageSid`; receipts for unknown messages are ignored.',
      operationId: 'twilioStatus',
      security: [],
      requestBody: {
        required: true,
        content: { 'application/x-www-form-urlencoded': { schema: { type: 'object' } } },
      },
      responses: {
        '200': {
          description: 'Recorded, or ignored (unknown message, repeated or older status)',
          content: { 'text/xml': { schema: { type: 'string' } } },
        },
        ...errors(403),
      },
    },
  },
};

export function twilioRoutes({ db, config, log }: ApiDeps): Router {
  const r = Router();
  const verify = verifyTwilio(config);

  r.post('/webhooks/twilio/inbound', form, verify, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const from = normalizeAddress('sms', str(body.From));
    const to = normalizeAddress('sms', str(body.To));
    const word = str(body.Body)
      .trim()
      .replace(/[.!\s]+$/, '')
      .toUpperCase();
    const kind = STOP_WORDS.has(word)
      ? 'stop'
      : START_WORDS.has(word)
        ? 'start'
        : HELP_WORDS.has(word)
          ? 'help'
          : 'other';
    let accounts: string[] = [];
    if (from && to && (kind === 'stop' || kind === 'start')) {
      accounts = await accountsTextingFrom(db, config, to, str(body.MessagingServiceSid));
      const writes: SuppressionWrite[] = accounts.map((accountId) =>
        kind === 'stop'
          ? {
              op: 'add',
              accountId,
              channel: 'sms',
              address: from,
              reason: `texted ${word}`,
              source: 'sms_keyword',
            }
          : { op: 'remove', accountId, channel: 'sms', address: from, source: 'sms_keyword' },
      );
      await writeSuppressions(db, writes);
    }
    metrics.smsKeywords.inc({ keyword: kind });
    if (kind !== 'other') {
      log.info(
        { keyword: kind, from: from ? maskRecipient(from) : null, to, accounts: accounts.length },
        'inbound SMS keyword',
      );
    }
    res.type('text/xml').send(EMPTY_TWIML);
  });

  r.post('/webhooks/twilio/status', form, verify, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const sid = str(body.MessageSid) || str(body.SmsSid);
    const status = (str(body.MessageStatus) || str(body.SmsStatus)).toLowerCase();
    const rank = RECEIPT_RANK[status];
    let recorded = false;
    if (sid && rank !== undefined) {
      const errorCode = str(body.ErrorCode) || null;
      // One statement: idempotent (same rank: no change) and out-of-order safe (lower rank: no change).
      const [rows] = (await db.query(
        `UPDATE deliveries SET status = $2, status_rank = $3, status_at = now(), error_code = $4
          WHERE provider_id = $1 AND channel = 'sms' AND coalesce(status_rank, -1) < $3
          RETURNING idempotency_key`,
        [sid, status, rank, errorCode],
      )) as [unknown[], number];
      recorded = rows.length > 0;
    }
    metrics.deliveryReceipts.inc({
      status: rank === undefined ? 'other' : status,
      recorded: String(recorded),
    });
    res.status(200).type('text/xml').send(EMPTY_TWIML);
  });

  return r;
}
