/**
 * Reading providers' answers safely, for the delivery activities (./channels.ts): Retry-After, a
 * bounded snippet of an error body, the error code of an HTTP or SMTP client error, and the redaction
 * of secrets in the encodings they travel in.
 */
import type { Readable } from 'node:stream';

/** Retry-After is honoured up to the retry policy's maximum interval. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Retry-After as seconds or an HTTP date, capped at MAX_RETRY_AFTER_MS. */
export function retryAfterMs(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const value = header.trim();
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(Math.ceil(ms), MAX_RETRY_AFTER_MS) : undefined;
}

/** Replaces every known secret, and the encodings it travels in, with [redacted]. */
export function redactor(secrets: (string | undefined)[]): (text: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(Buffer.from(s).toString('base64'));
  }
  const list = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const f of list) out = out.split(f).join('[redacted]');
    return out;
  };
}

export function smtpSecrets(smtpUrl: string | undefined): string[] {
  if (!smtpUrl) return [];
  try {
    const u = new URL(smtpUrl);
    const pass = decodeURIComponent(u.password);
    const user = decodeURIComponent(u.username);
    // AUTH PLAIN and LOGIN carry the password base64-encoded, with or without the user name.
    return [pass, u.password, `\0${user}\0${pass}`];
  } catch {
    return [];
  }
}

/** At most `limit` bytes of UTF-8, never cutting a character in half. */
export function utf8Prefix(buf: Buffer, limit: number): string {
  if (buf.length <= limit) return buf.toString('utf8');
  let end = limit;
  // Step back over continuation bytes to the lead byte of the last character, and drop it if cut.
  let lead = end - 1;
  while (lead > 0 && (buf[lead] & 0xc0) === 0x80) lead--;
  const b = buf[lead];
  const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  if (lead + size > end) end = lead;
  return buf.subarray(0, end).toString('utf8');
}

/** The first `limit` bytes of a response stream, then the stream is closed. */
export async function readSnippet(stream: Readable, limit: number, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const abort = () => stream.destroy();
  signal.addEventListener('abort', abort, { once: true });
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(buf);
      size += buf.length;
      if (size >= limit) break;
    }
  } catch {
    /* a body cut short: keep what arrived */
  } finally {
    signal.removeEventListener('abort', abort);
    stream.destroy();
  }
  return utf8Prefix(Buffer.concat(chunks), limit);
}

export const errorCode = (err: unknown): string | undefined => {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
};
