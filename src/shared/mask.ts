/** Masks recipients in Temporal summaries, which anyone with UI access can read. */
export function maskRecipient(value: string): string {
  if (value.includes('@')) {
    const [local, domain] = value.split('@');
    return `${local.slice(0, 1)}•••@${domain}`;
  }
  if (/^\+\d{7,}$/.test(value)) return `${value.slice(0, 5)}•••${value.slice(-2)}`;
  return value.length > 4 ? `${value.slice(0, 2)}•••` : '•••';
}

/** The host of a webhook URL, without path or query (which may carry tokens). */
export function urlHost(url: string): string {
  const m = /^https?:\/\/([^/?#]+)/i.exec(url);
  return m ? m[1].replace(/^[^@]*@/, '') : url;
}

const EMAIL_IN_TEXT = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// E.164 (+ and 7-15 digits), or 10+ digits grouped by spaces, dashes or brackets (no dots: IPs stay).
const PHONE_IN_TEXT = /\+\d{7,15}\b|(?<![\d.])\(?\d{3}\)?[ -]?\d{3}[ -]?\d{4,}(?![\d.])/g;

/**
 * Masks phone numbers and email addresses inside free text (a provider's error message, an SMTP
 * reply), as summaries mask recipients: Twilio's 21211 text, for one, echoes the whole number.
 */
export function maskText(text: string): string {
  return text
    .replace(EMAIL_IN_TEXT, (m) => maskRecipient(m))
    .replace(PHONE_IN_TEXT, (m) => maskRecipient(m.startsWith('+') ? m : `+${m.replace(/\D/g, '')}`));
}
