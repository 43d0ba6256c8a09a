/**
 * SMS size. Twilio refuses a body over 1,600 characters, so that is the bound (counted in Unicode
 * characters). Segments are what a carrier bills: GSM-7 text fits 160 characters in one message and
 * 153 per part when split (the extension characters ^{}[]~\|€ count twice); anything else is sent as
 * UCS-2, 70 and 67 per part (characters outside the BMP, e.g. emoji, count twice).
 */
export const SMS_MAX_CHARS = 1600;

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';

export const smsChars = (body: string) => [...body].length;

export function smsSegments(body: string): { encoding: 'GSM-7' | 'UCS-2'; segments: number } {
  let units = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM7_BASIC.includes(ch)) units += 1;
    else if (GSM7_EXTENDED.includes(ch)) units += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return { encoding: 'GSM-7', segments: units <= 160 ? 1 : Math.ceil(units / 153) };
  const ucs = body.length; // UTF-16 code units: a character outside the BMP takes two.
  return { encoding: 'UCS-2', segments: ucs <= 70 ? 1 : Math.ceil(ucs / 67) };
}

/** Why this body cannot be sent, or null. */
export function smsTooLong(body: string): string | null {
  const n = smsChars(body);
  if (n <= SMS_MAX_CHARS) return null;
  const { encoding, segments } = smsSegments(body);
  return `SMS body is ${n} characters (${segments} ${encoding} segments); Twilio refuses more than ${SMS_MAX_CHARS}`;
}

/** A dry run's warning (the shape of `warnings` items on dry-run answers). */
export interface DryRunWarning {
  code: string;
  path: string;
  message: string;
  suggestion?: string;
}

/** Rendered SMS bodies a real run would refuse to send. */
export function smsBodyWarnings(actions: { index: number; type: string; body?: string }[]): DryRunWarning[] {
  return actions.flatMap((a) => {
    const why = a.type === 'sms' && typeof a.body === 'string' ? smsTooLong(a.body) : null;
    return why
      ? [
          {
            code: 'sms_too_long',
            path: `actions[${a.index}].params.message`,
            message: `${why}: a real run fails this action`,
            suggestion: 'shorten the message or the values it includes, or send long content by email',
          },
        ]
      : [];
  });
}
