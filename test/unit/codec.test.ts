import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, generateEncryptionKeys, parseEncryptionKeys } from '../../src/codec';
import { ConfigError, loadConfig } from '../../src/config';

const oldKeys = generateEncryptionKeys(new Date('2026-01-01'));
const newKeys = generateEncryptionKeys(new Date('2026-06-01'));
const plain = defaultPayloadConverter.toPayload({ url: 'https://hooks.example/x?token=secret' });

test('encrypts with the first key, names it, and decrypts back', async () => {
  const codec = new EncryptionCodec(parseEncryptionKeys(oldKeys));
  const [enc] = await codec.encode([plain]);
  expect(Buffer.from(enc.metadata!.encoding!).toString()).toBe('binary/encrypted');
  expect(Buffer.from(enc.metadata!['encryption-key-id']!).toString()).toBe('k20260101');
  expect(Buffer.from(enc.data!).toString('latin1')).not.toContain('secret');
  const [again] = await codec.encode([plain]);
  expect(Buffer.from(again.data!).equals(Buffer.from(enc.data!))).toBe(false); // a fresh IV each time
  const [dec] = await codec.decode([enc]);
  expect(defaultPayloadConverter.fromPayload(dec)).toEqual({ url: 'https://hooks.example/x?token=secret' });
});

test('key rotation: the new key encrypts, payloads of the old key still decrypt; a dropped key is named', async () => {
  const [byOld] = await new EncryptionCodec(parseEncryptionKeys(oldKeys)).encode([plain]);
  const rotated = new EncryptionCodec(parseEncryptionKeys(`${newKeys},${oldKeys}`));
  const [byNew] = await rotated.encode([plain]);
  expect(Buffer.from(byNew.metadata!['encryption-key-id']!).toString()).toBe('k20260601');
  expect(await rotated.decode([byOld, byNew])).toEqual([plain, plain].map((p) => expect.objectContaining(p)));
  await expect(new EncryptionCodec(parseEncryptionKeys(newKeys)).decode([byOld])).rejects.toThrow(
    /key id "k20260101"/,
  );
});

test('plain payloads (histories recorded before encryption) pass through unchanged', async () => {
  const codec = new EncryptionCodec(parseEncryptionKeys(oldKeys));
  expect(await codec.decode([plain])).toEqual([plain]);
});

test('a tampered payload or a relabelled key id fails to decrypt', async () => {
  const keys = parseEncryptionKeys(`${oldKeys},${newKeys.replace('k20260601', 'other')}`);
  const codec = new EncryptionCodec(keys);
  const [enc] = await codec.encode([plain]);
  const flipped = Buffer.from(enc.data!);
  flipped[20] ^= 1;
  await expect(codec.decode([{ ...enc, data: flipped }])).rejects.toThrow();
  const relabelled = { ...enc, metadata: { ...enc.metadata, 'encryption-key-id': Buffer.from('other') } };
  await expect(codec.decode([relabelled])).rejects.toThrow();
});

test('PAYLOAD_ENCRYPTION_KEYS is validated with an error naming the variable and never the key', () => {
  const bad = (v: string) => () => loadConfig({ PAYLOAD_ENCRYPTION_KEYS: v });
  expect(bad('nocolon')).toThrow(ConfigError);
  expect(bad('nocolon')).toThrow(/PAYLOAD_ENCRYPTION_KEYS: entry 1 must be kid:base64key/);
  expect(bad('k1:c2hvcnQ=')).toThrow(/PAYLOAD_ENCRYPTION_KEYS: key k1 must be 32 bytes/);
  expect(bad('k1:c2hvcnQ=')).not.toThrow(/c2hvcnQ/);
  const key = oldKeys.split(':')[1];
  expect(bad(`a:${key},a:${key}`)).toThrow(/unique/);
  expect(
    loadConfig({ PAYLOAD_ENCRYPTION_KEYS: ` ${oldKeys} , ${newKeys} ` }).PAYLOAD_ENCRYPTION_KEYS!.map(
      (k) => k.id,
    ),
  ).toEqual(['k20260101', 'k20260601']);
  expect(loadConfig({}).PAYLOAD_ENCRYPTION_KEYS).toBeUndefined();
});
