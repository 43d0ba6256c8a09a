/**
 * The webhook receiver of the benchmark and the drills: plain node:http on 127.0.0.1. It records every
 * request by its Idempotency-Key (or X-Bench-Id for the raw-Temporal baseline), when it arrived and
 * what it answered, and can answer from a script (e.g. 503 three times per key, then 200).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WEBHOOK_TIMEOUT_MS } from '../../src/activities/delivery-kit';
import { now, waitFor } from './util';

/**
 * A request handled this long after its signed `webhook-timestamp` (whole seconds, so up to 1 s
 * early) came after the sender's deadline: the sender had given up on it and rightly sent again.
 */
const PAST_DEADLINE_MS = WEBHOOK_TIMEOUT_MS + 1000;

export interface Hit {
  key: string;
  at: number;
  status: number;
  body: string;
  signature?: string;
  /** Handled after the sender's deadline (see PAST_DEADLINE_MS): an answer nobody was waiting for. */
  late: boolean;
}

export type Responder = (key: string, attemptForKey: number) => number;

export class Receiver {
  /** Every request, in arrival order. */
  readonly hits: Hit[] = [];
  /** Requests per key (all answers). */
  readonly attempts = new Map<string, number>();
  /** 2xx answers per key. */
  readonly delivered = new Map<string, number>();
  /** Per key, for each 2xx answer in order: whether it came after the sender's deadline. */
  private readonly lateness = new Map<string, boolean[]>();
  /** Arrival time of the first 2xx per key. */
  readonly firstDeliveredAt = new Map<string, number>();
  respond: Responder = () => 200;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: http.Server) {}

  static async start(port = 0): Promise<Receiver> {
    const server = http.createServer();
    server.keepAliveTimeout = 5000;
    const self = new Receiver(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => self.handle(req, res));
    server.on('connection', (s) => {
      self.sockets.add(s);
      s.on('close', () => self.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  reset(): void {
    this.hits.length = 0;
    this.attempts.clear();
    this.delivered.clear();
    this.lateness.clear();
    this.firstDeliveredAt.clear();
    this.respond = () => 200;
  }

  /**
   * Keys delivered twice: a 2xx answered in time, yet another copy came after it. A copy whose 2xx
   * came after the sender's deadline does not count: the sender saw a timeout and had to send again
   * (see resentAfterDeadline; a receiver dedupes those by the Idempotency-Key).
   */
  duplicates(): string[] {
    return [...this.lateness].filter(([, late]) => late.slice(0, -1).some((l) => !l)).map(([k]) => k);
  }

  /** Keys answered 2xx more than once only because earlier copies were answered past the deadline. */
  resentAfterDeadline(): string[] {
    return [...this.lateness]
      .filter(([, late]) => late.length > 1 && late.slice(0, -1).every((l) => l))
      .map(([k]) => k);
  }

  deliveredWhere(pred: (key: string) => boolean): number {
    let n = 0;
    for (const k of this.delivered.keys()) if (pred(k)) n++;
    return n;
  }

  async waitForDelivered(pred: (key: string) => boolean, count: number, timeoutMs: number): Promise<void> {
    await waitFor(
      `${count} deliveries (have ${this.deliveredWhere(pred)})`,
      () => (this.deliveredWhere(pred) >= count ? true : undefined),
      timeoutMs,
      50,
    );
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const at = now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? req.headers['x-bench-id'] ?? '');
      const n = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, n);
      const status = this.respond(key, n);
      const body = Buffer.concat(chunks).toString('utf8');
      const signedAt = Number(req.headers['webhook-timestamp']) * 1000;
      const late = Date.now() - signedAt >= PAST_DEADLINE_MS;
      const signature = req.headers['x-signature'] as string | undefined;
      this.hits.push({ key, at, status, body, signature, late });
      if (status >= 200 && status < 300) {
        this.delivered.set(key, (this.delivered.get(key) ?? 0) + 1);
        this.lateness.set(key, [...(this.lateness.get(key) ?? []), late]);
        if (!this.firstDeliveredAt.has(key)) this.firstDeliveredAt.set(key, at);
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{"ok":true}' : '{}');
    });
  }
}

/** `run-<ruleId>-<eventId>.action-<i>` → eventId. */
export function eventIdOfKey(key: string, ruleId: string): string | null {
  const prefix = `run-${ruleId}-`;
  if (!key.startsWith(prefix)) return null;
  const rest = key.slice(prefix.length);
  const dot = rest.lastIndexOf('.action-');
  return dot === -1 ? null : rest.slice(0, dot);
}
