/** Small helpers the benchmark and the drills share: timing, percentiles, load shapes, HTTP. */
import net from 'node:net';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Nearest-rank percentile of an unsorted sample; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const round = (n: number, digits = 1) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : NaN);

export function summarize(values: number[]) {
  return {
    p50Ms: round(percentile(values, 50)),
    p95Ms: round(percentile(values, 95)),
    p99Ms: round(percentile(values, 99)),
    maxMs: round(values.length ? Math.max(...values) : NaN),
  };
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution. */
export const now = () => performance.timeOrigin + performance.now();

/**
 * Open-loop load: starts `fn(i)` at a fixed rate whether or not earlier calls have finished (so a slow
 * system sees the queue grow instead of the generator politely slowing down), `count` times, then waits
 * for all of them. Each call is scheduled against the start time, not the previous call, so timer
 * drift does not lower the rate. Returns the achieved rate.
 */
export async function openLoop(
  ratePerSec: number,
  count: number,
  fn: (i: number, scheduledAt: number) => Promise<void>,
  maxInFlight = 2000,
): Promise<{ sent: number; seconds: number; achievedRate: number; skipped: number }> {
  const start = now();
  const interval = 1000 / ratePerSec;
  const pending = new Set<Promise<void>>();
  let skipped = 0;
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    if (pending.size >= maxInFlight) {
      skipped++;
      continue;
    }
    const p = fn(i, due).catch(() => undefined);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  const sentAt = now();
  await Promise.all(pending);
  const seconds = (sentAt - start) / 1000;
  return {
    sent: count - skipped,
    seconds,
    achievedRate: (count - skipped) / Math.max(seconds, 1e-3),
    skipped,
  };
}

/** Closed-loop load at fixed concurrency: the saturation throughput of whatever `fn` calls. */
export async function closedLoop(
  concurrency: number,
  count: number,
  fn: (i: number) => Promise<void>,
  /** Stop issuing calls after this many ms (calls in flight finish). */
  budgetMs = Infinity,
): Promise<{ seconds: number; perSec: number; errors: number; done: number }> {
  let next = 0;
  let errors = 0;
  let done = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count || now() - start > budgetMs) return;
        await fn(i).then(
          () => done++,
          () => errors++,
        );
      }
    }),
  );
  const seconds = (now() - start) / 1000;
  return { seconds, perSec: done / seconds, errors, done };
}

export interface HttpResult<T = any> {
  status: number;
  body: T;
  ms: number;
  headers: Headers;
}

/** fetch with a JSON body and a bearer token; the body is parsed when it is JSON. */
export async function http<T = any>(
  method: string,
  url: string,
  opts: {
    token?: string;
    body?: unknown;
    raw?: string | Buffer;
    headers?: Record<string, string>;
    /** Abort (the call rejects) after this long. */
    timeoutMs?: number;
  } = {},
): Promise<HttpResult<T>> {
  const t0 = now();
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const signal = opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined;
  const res = await fetch(url, { method, headers, body, signal });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as T, ms: now() - t0, headers: res.headers };
}

/** Polls `check` until it returns something other than undefined. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}

export const log = (msg: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${msg}\n`);
