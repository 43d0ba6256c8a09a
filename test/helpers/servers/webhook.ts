/**
 * Webhook receivers on 127.0.0.1 that record every request and answer from a script: a status with
 * a body, a redirect, a hang that never answers, or a response whose body never finishes. Also the
 * receiver's side of the signature check, written as docs/channels.md tells receivers to.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface WebhookRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type WebhookAnswer =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | { hang: true }
  /** Sends the status and headers, then a byte now and then, never ending the body. */
  | { drip: number };

export class WebhookReceiver {
  readonly requests: WebhookRequest[] = [];
  private readonly script: WebhookAnswer[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: http.Server) {}

  static async start(...script: WebhookAnswer[]): Promise<WebhookReceiver> {
    const server = http.createServer();
    const self = new WebhookReceiver(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => self.handle(req, res));
    self.script.push(...script);
    server.on('connection', (s) => {
      self.sockets.add(s);
      s.on('close', () => self.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook', host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  /** Answers for the next requests, in order; afterwards 200 `{"ok":true}`. (Not `then`: awaitable.) */
  queue(...answers: WebhookAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const a = this.script.shift() ?? { status: 200, body: '{"ok":true}' };
      if ('hang' in a) return;
      if ('drip' in a) {
        res.writeHead(a.drip, { 'Content-Type': 'text/plain' });
        res.write('x');
        const t = setInterval(() => res.write('.'), 200);
        this.timers.add(t);
        res.on('close', () => clearInterval(t));
        return;
      }
      const reply = () => {
        res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers });
        res.end(a.body ?? '');
      };
      if (!a.delayMs) return reply();
      const t = setTimeout(reply, a.delayMs);
      this.timers.add(t);
    });
  }
}

/**
 * The receiver's check: recompute HMAC-SHA256(secret, `${t}.${rawBody}`), compare in constant time,
 * and refuse timestamps outside the tolerance (replays).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  if (!header) return false;
  const fields = new Map<string, string[]>();
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i > 0)
      fields.set(part.slice(0, i).trim(), [
        ...(fields.get(part.slice(0, i).trim()) ?? []),
        part.slice(i + 1),
      ]);
  }
  const t = Number(fields.get('t')?.[0]);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return (fields.get('v1') ?? []).some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
