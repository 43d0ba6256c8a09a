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
