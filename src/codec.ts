/**
 * Encrypted history: a Temporal PayloadCodec (AES-256-GCM) that every worker, client, replayer and
 * history decoder of the product uses, so Temporal stores — and `temporal workflow show` and the Web UI
 * see — only ciphertext for workflow inputs and results, activity arguments and results, memos, failure
 * details and summaries. Search attributes and headers are never passed through a codec by the SDK.
 *
 * PAYLOAD_ENCRYPTION_KEYS is `kid:base64key[,kid:base64key…]` (each key 32 bytes): new payloads are
 * encrypted with the first key, and each payload names its key id in its metadata, so a key rotates by
 * putting the new one first and keeping the old ones until no history needs them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  METADATA_ENCODING_KEY,
  type DataConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Parses PAYLOAD_ENCRYPTION_KEYS; the error says what is wrong without echoing any key material. */
export function parseEncryptionKeys(value: string): EncryptionKey[] {
  const keys = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const colon = entry.indexOf(':');
      const id = colon < 0 ? '' : entry.slice(0, colon);
      if (!KEY_ID.test(id))
        throw new Error(`entry ${i + 1} must be kid:base64key with kid of letters, digits, . _ - (1-64)`);
      const b64 = entry.slice(colon + 1);
      const key = Buffer.from(b64, 'base64');
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64) || key.length !== 32)
        throw new Error(`key ${id} must be 32 bytes in base64 (openssl rand -base64 32)`);
      return { id, key };
    });
  if (!keys.length) throw new Error('must name at least one kid:base64key');
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new Error('key ids must be unique');
  return keys;
}

/** A fresh key set for a data dir (`npm start`): one key, id `k<yyyymmdd>`. */
export function generateEncryptionKeys(now = new Date()): string {
  return `k${now.toISOString().slice(0, 10).replace(/-/g, '')}:${randomBytes(32).toString('base64')}`;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: EncryptionKey;

  constructor(keys: EncryptionKey[]) {
    if (!keys.length) throw new Error('EncryptionCodec needs at least one key');
    this.current = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      // The key id is authenticated too: a payload cannot be relabelled to another key.
      cipher.setAAD(Buffer.from(this.current.id));
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: utf8(this.current.id),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      // Histories recorded before encryption (and any plain payload) pass through unchanged.
      if (text(p.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return p;
      const id = text(p.metadata?.[KEY_ID_METADATA]) ?? '';
      const key = this.byId.get(id);
      if (!key)
        throw new Error(`payload encrypted with key id "${id}", which PAYLOAD_ENCRYPTION_KEYS does not hold`);
      const data = Buffer.from(p.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The data converter for every client, worker and replayer: the codec when keys are configured. */
export function dataConverterFor(config: { PAYLOAD_ENCRYPTION_KEYS?: EncryptionKey[] }): DataConverter {
  return config.PAYLOAD_ENCRYPTION_KEYS
    ? {
        payloadCodecs: [new EncryptionCodec(config.PAYLOAD_ENCRYPTION_KEYS)],
        failureConverterPath: require.resolve('./failure-converter'),
      }
    : {};
}
