import { randomBytes, createHash } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Short readable ids such as `rule_k3v9x0q2m1zt`: they appear in workflow ids and URLs. */
export function newId(prefix: string, length = 14): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}_${out}`;
}

export const newSecret = (prefix: string) => `${prefix}_${randomBytes(24).toString('base64url')}`;

/** API keys are random 192-bit strings, so a fast hash is safe and lets the key be looked up by index. */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');
