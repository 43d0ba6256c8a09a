/**
 * The codec server the Temporal Web UI and CLI decode payloads through (Temporal's codec-server
 * protocol: `POST /codec/decode` and `/codec/encode`, `{"payloads": [...]}` in proto3 JSON, every bytes
 * field base64). It decrypts any account's history, so it is an operator endpoint:
 *
 * - with `Authorization: Bearer <ADMIN_TOKEN>` from anywhere (`temporal workflow show --codec-endpoint
 *   …/codec --codec-auth "Bearer $ADMIN_TOKEN"`, or an auth proxy that adds it);
 * - without a token only for a browser page whose Origin is in CODEC_CORS_ORIGINS and only from a
 *   loopback address: the dev Web UI that `npm start` runs on this machine.
 *
 * Answers 404 when PAYLOAD_ENCRYPTION_KEYS is not set. See docs/deploying.md for production.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec } from '../../codec';
import { ApiError } from '../../shared/errors';
import { parseOrThrow } from '../../services/validation';
import { requireAdmin } from '../auth';
import type { ApiDeps } from '../deps';
import { errors, requestBody, response, type OpenApiPaths } from '../openapi-helpers';

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
const payloadSchema = z.object({
  metadata: z.record(z.string(), base64).optional(),
  data: base64.optional(),
});
const bodySchema = z
  .object({ payloads: z.array(payloadSchema).max(1000) })
  .meta({ id: 'CodecPayloads', description: 'Payloads in proto3 JSON: metadata values and data in base64' });

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const fromJson = (p: z.infer<typeof payloadSchema>): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export const codecOpenApi: OpenApiPaths = Object.fromEntries(
  (['decode', 'encode'] as const).map((op) => [
    `/codec/${op}`,
    {
      post: {
        tags: ['operations'],
        summary: `Codec server: ${op} payloads for the Temporal Web UI and CLI`,
        description:
          'Temporal codec-server protocol over the payload encryption (PAYLOAD_ENCRYPTION_KEYS). Operator ' +
          'only: the admin token, or the dev Web UI (an Origin in CODEC_CORS_ORIGINS, from loopback). ' +
          '404 when payload encryption is off.',
        operationId: `codec${op[0].toUpperCase()}${op.slice(1)}`,
        security: [{ adminToken: [] }],
        requestBody: requestBody(bodySchema),
        responses: { '200': response(bodySchema, `The payloads, ${op}d`), ...errors(400, 401, 404) },
      },
    },
  ]),
);

export function codecRoutes({ config }: ApiDeps): Router {
  const r = Router();
  const keys = config.PAYLOAD_ENCRYPTION_KEYS;
  if (!keys) return r;
  const codec = new EncryptionCodec(keys);
  const admin = requireAdmin(config.ADMIN_TOKEN);
  const origins = new Set(config.CODEC_CORS_ORIGINS);

  const access = (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    const allowedOrigin = origin !== undefined && origins.has(origin);
    if (allowedOrigin) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.status(allowedOrigin ? 204 : 403).end();
      return;
    }
    if (allowedOrigin && LOOPBACK.has(req.socket.remoteAddress ?? '')) return next();
    admin(req, res, next);
  };

  for (const op of ['decode', 'encode'] as const) {
    r.options(`/codec/${op}`, access);
    r.post(`/codec/${op}`, access, async (req, res) => {
      const body = parseOrThrow(bodySchema, req.body);
      let out: Payload[];
      try {
        out = await codec[op](body.payloads.map(fromJson));
      } catch (err) {
        // An unknown key id or a forged/truncated payload: the caller's input, not our failure.
        throw new ApiError(400, 'codec_failed', `cannot ${op} the payloads: ${(err as Error).message}`);
      }
      res.json({ payloads: out.map(toJson) });
    });
  }
  return r;
}
