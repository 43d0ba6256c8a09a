/**
 * Twilio's request signature (X-Twilio-Signature), computed as Twilio does: HMAC-SHA1 with the auth
 * token over the full URL Twilio called followed by every POST parameter as name+value, names sorted
 * (a repeated name contributes each of its values, sorted), base64.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TwilioParams = Record<string, string | string[] | undefined>;

export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? [...value].sort() : [value]) data += name + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

export function validTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: TwilioParams,
): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature);
  const wanted = Buffer.from(twilioSignature(authToken, url, params));
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
