/**
 * One-click unsubscribe (RFC 8058) from the List-Unsubscribe link every non-transactional email
 * carries. POST with `List-Unsubscribe=One-Click` suppresses the address for the account; GET only
 * shows a page with a button, because mail scanners follow links. No API key: the token is signed.
 */
import express, { Router, type Response } from 'express';
import { AccountEntity } from '../../db/entities';
import { writeSuppressions } from '../../services/suppressions';
import { ApiError } from '../../shared/errors';
import { maskRecipient } from '../../shared/mask';
import { readUnsubscribeToken } from '../../shared/unsubscribe';
import type { ApiDeps } from '../deps';
import { errors, pathParameter, type OpenApiPaths } from '../openapi-helpers';

const text = express.text({ type: () => true, limit: '16kb' });

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    // No scripts at all; the form may only post back here; the token in the URL is not passed on.
    .set(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
    .set('Referrer-Policy', 'no-referrer')
    .set('Cache-Control', 'no-store')
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${escapeHtml(title)}</title><style>body{font:16px system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}button{font-size:1em;padding:.5em 1em}</style>` +
        `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

/** RFC 8058's body, form-encoded or as a multipart field. */
function isOneClick(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  if (new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click') return true;
  return /name="?List-Unsubscribe"?\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click\r?\n/.test(body);
}

const tokenParam = pathParameter('token', 'The signed token of the List-Unsubscribe link');

export const unsubscribeOpenApi: OpenApiPaths = {
  '/unsubscribe/{token}': {
    parameters: [tokenParam],
    get: {
      tags: ['webhooks'],
      summary: 'Unsubscribe confirmation page',
      description: 'A page with a button that posts the one-click unsubscribe. A GET never unsubscribes.',
      operationId: 'unsubscribePage',
      security: [],
      responses: {
        '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        '400': { description: 'Not a valid link', content: { 'text/html': { schema: { type: 'string' } } } },
      },
    },
    post: {
      tags: ['webhooks'],
      summary: 'One-click unsubscribe (RFC 8058)',
      description: 'Body `List-Unsubscribe=One-Click`: the address is suppressed for email in the account.',
      operationId: 'unsubscribe',
      security: [],
      requestBody: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: {
              type: 'object',
              required: ['List-Unsubscribe'],
              properties: { 'List-Unsubscribe': { type: 'string', enum: ['One-Click'] } },
            },
          },
        },
      },
      responses: {
        '200': { description: 'Unsubscribed', content: { 'text/html': { schema: { type: 'string' } } } },
        ...errors(400),
      },
    },
  },
};

export function unsubscribeRoutes({ db, config }: ApiDeps): Router {
  const r = Router();
  const read = (token: string) =>
    config.UNSUBSCRIBE_SECRET ? readUnsubscribeToken(config.UNSUBSCRIBE_SECRET, token) : null;

  r.get('/unsubscribe/:token', (req, res) => {
    const t = read(req.params.token);
    if (!t) return page(res, 400, 'Link not valid', '<p>This unsubscribe link is not valid.</p>');
    page(
      res,
      200,
      'Unsubscribe',
      `<p>Stop automated emails to <strong>${escapeHtml(maskRecipient(t.address))}</strong>?</p>` +
        `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">` +
        `<button type="submit">Unsubscribe</button></form>`,
    );
  });

  r.post('/unsubscribe/:token', text, async (req, res) => {
    const t = read(req.params.token);
    if (!t) throw new ApiError(400, 'invalid_token', 'this unsubscribe link is not valid');
    if (!isOneClick(req.body)) {
      throw new ApiError(400, 'validation_failed', 'send List-Unsubscribe=One-Click', [
        { path: 'List-Unsubscribe', message: 'must be One-Click' },
      ]);
    }
    // A deleted account has nothing left to send; the link still answers as done.
    if (await db.getRepository(AccountEntity).existsBy({ id: t.accountId })) {
      await writeSuppressions(db, [
        {
          op: 'add',
          accountId: t.accountId,
          channel: 'email',
          address: t.address,
          reason: 'one-click unsubscribe',
          source: 'unsubscribe',
        },
      ]);
    }
    page(
      res,
      200,
      'Unsubscribed',
      `<p>${escapeHtml(maskRecipient(t.address))} will get no more automated emails.</p>`,
    );
  });

  return r;
}
