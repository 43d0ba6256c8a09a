/**
 * Signed webhooks over real HTTP: the target checked at send time (literal IPs here, names on connect
 * through the guarded lookup), no redirects followed, no proxy, Retry-After honoured.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import axios, { type AxiosResponse } from 'axios';
import { urlHost } from '../shared/mask';
import { guardedLookup, isIpLiteral, normalizeHost, refuseAddress, type Resolver } from '../shared/net';
import type { DeliveryContext, DeliveryResult } from '../shared/run-types';
import { signWebhook, standardWebhookHeaders } from '../shared/signing';
import { BODY_SNIPPET_BYTES, USER_AGENT, type DeliveryKit, type Webhook } from './delivery-kit';
import { deliverOnce } from './ledger';
import { errorCode, readSnippet, redactor, retryAfterMs } from './provider-io';

export function webhookSender(
  { db, config, failure, accountSecrets, withAttempts }: DeliveryKit,
  webhookMs: number,
  resolve: Resolver = dns.lookup as unknown as Resolver,
) {
  const allow = config.WEBHOOK_ALLOWED_HOSTS;
  const lookup = guardedLookup(allow, resolve);
  // keepAlive off: each request resolves and checks its target afresh.
  const httpAgent = new http.Agent({ keepAlive: false, lookup });
  const httpsAgent = new https.Agent({ keepAlive: false, lookup });

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

  return sendWebhook;
}
