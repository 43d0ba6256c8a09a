/**
 * One-click unsubscribe tokens (RFC 8058 links): `<base64url(accountId "\n" address)>.<base64url(mac)>`,
 * the MAC a 128-bit HMAC-SHA256 under a key derived from UNSUBSCRIBE_SECRET. Verifying needs no
 * database read; forging one needs the server secret. The address is the normalised (lower-case)
 * email. Tokens do not expire: a link in an old email must keep working (RFC 8058 asks for that).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAC_BYTES = 16;

const keyOf = (serverSecret: string) =>
  createHmac('sha256', serverSecret).update('crm-automation unsubscribe token v1').digest();

const mac = (key: Buffer, data: string) =>
  createHmac('sha256', key).update(data).digest().subarray(0, MAC_BYTES);

export function unsubscribeToken(serverSecret: string, accountId: string, address: string): string {
  const data = Buffer.from(`${accountId}\n${address}`).toString('base64url');
  return `${data}.${mac(keyOf(serverSecret), data).toString('base64url')}`;
}

export function readUnsubscribeToken(
  serverSecret: string,
  token: string,
): { accountId: string; address: string } | null {
  const m = /^([A-Za-z0-9_-]{1,700})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return null;
  // Compared as text: a decoder ignores the last character's spare bits, the canonical text does not.
  const given = Buffer.from(m[2]);
  const wanted = Buffer.from(mac(keyOf(serverSecret), m[1]).toString('base64url'));
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return null;
  const [accountId, address, ...rest] = Buffer.from(m[1], 'base64url').toString('utf8').split('\n');
  if (rest.length || !accountId || !address) return null;
  return { accountId, address };
}

export const unsubscribeUrl = (publicUrl: string, token: string) => `${publicUrl}/unsubscribe/${token}`;
