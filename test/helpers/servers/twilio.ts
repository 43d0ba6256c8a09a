/**
 * A Twilio-compatible Messages API on 127.0.0.1: `POST /2010-04-01/Accounts/{sid}/Messages.json` with
 * basic auth `sid:token` and form fields To, From, Body, answering 201 with a message sid like Twilio.
 * Tests queue other answers per `To` number (Twilio's error JSON, 429 with Retry-After, 5xx…).
 * Like Twilio it calls a message's StatusCallback (a form POST signed with X-Twilio-Signature, computed
 * by the official `twilio` package) and posts inbound messages to a number's webhook.
 */
import { randomBytes } from 'node:crypto';
import twilioLib from 'twilio';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TwilioRequest {
  method: string;
  path: string;
  authorization?: string;
  contentType?: string;
  form: Record<string, string>;
}

export interface TwilioAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Twilio's error body, e.g. twilioError(400, 21211, "The 'To' number is not a valid phone number."). */
export const twilioError = (status: number, code: number, message: string): TwilioAnswer => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

export class TwilioTestServer {
  readonly requests: TwilioRequest[] = [];
  readonly sids: string[] = [];
  private readonly queued = new Map<string, TwilioAnswer[]>();
  /** Message sid → its StatusCallback URL. */
  private readonly callbacks = new Map<string, string>();
  private publicUrl?: string;
  private actualUrl?: string;

  private constructor(
    private readonly server: http.Server,
    readonly accountSid: string,
    readonly authToken: string,
  ) {}

  static async start(accountSid: string, authToken: string): Promise<TwilioTestServer> {
    const server = http.createServer();
    const self = new TwilioTestServer(server, accountSid, authToken);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => self.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next answers to a message for `to`, in order; afterwards messages are accepted. */
  queue(to: string, ...answers: TwilioAnswer[]): void {
    this.queued.set(to, [...(this.queued.get(to) ?? []), ...answers]);
  }

  /** Twilio calls PUBLIC_URL (what the signature covers); the test reaches the API at `actualUrl`. */
  reachVia(publicUrl: string, actualUrl: string): void {
    this.publicUrl = publicUrl.replace(/\/+$/, '');
    this.actualUrl = actualUrl.replace(/\/+$/, '');
  }

  /** A signed form POST to `url` (a PUBLIC_URL address), as Twilio sends its webhooks. */
  async post(url: string, params: Record<string, string>, token = this.authToken) {
    const signature = twilioLib.getExpectedTwilioSignature(token, url, params);
    const target =
      this.publicUrl && this.actualUrl && url.startsWith(this.publicUrl)
        ? this.actualUrl + url.slice(this.publicUrl.length)
        : url;
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, body: await res.text(), signature };
  }

  /** Calls the message's StatusCallback with MessageStatus (and ErrorCode), like Twilio does. */
  async status(sid: string, messageStatus: string, extra: Record<string, string> = {}) {
    const url = this.callbacks.get(sid);
    if (!url) throw new Error(`message ${sid} had no StatusCallback`);
    return this.post(url, {
      AccountSid: this.accountSid,
      MessageSid: sid,
      SmsSid: sid,
      MessageStatus: messageStatus,
      SmsStatus: messageStatus,
      ApiVersion: '2010-04-01',
      ...extra,
    });
  }

  requestsTo(to: string): TwilioRequest[] {
    return this.requests.filter((r) => r.form.To === to);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const request: TwilioRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        form,
      };
      this.requests.push(request);
      this.answer(res, this.decide(request));
    });
  }

  private decide(r: TwilioRequest): TwilioAnswer {
    if (r.method !== 'POST' || r.path !== `/2010-04-01/Accounts/${this.accountSid}/Messages.json`) {
      return twilioError(404, 20404, 'The requested resource was not found');
    }
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
    if (r.authorization !== expected) {
      // A careless provider that echoes what it got: the client must not pass this on unredacted.
      const given = Buffer.from((r.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
      return {
        status: 401,
        body: { code: 20003, message: `Authenticate: got ${r.authorization} (${given})`, status: 401 },
      };
    }
    if (!r.contentType?.startsWith('application/x-www-form-urlencoded')) {
      return twilioError(400, 20001, 'expected a form');
    }
    for (const field of ['To', 'Body']) {
      if (!r.form[field]) return twilioError(400, 21604, `A '${field}' parameter is required.`);
    }
    if (!r.form.From && !r.form.MessagingServiceSid) {
      return twilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.");
    }
    const next = this.queued.get(r.form.To)?.shift();
    if (next) return next;
    const sid = `SM${randomBytes(16).toString('hex')}`;
    this.sids.push(sid);
    if (r.form.StatusCallback) this.callbacks.set(sid, r.form.StatusCallback);
    return {
      status: 201,
      body: { sid, status: 'queued', to: r.form.To, from: r.form.From, body: r.form.Body },
    };
  }

  private answer(res: http.ServerResponse, a: TwilioAnswer): void {
    const body = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers });
    res.end(body);
  }
}
