/** POST /account/webhook-secret/rotate: a new signing secret, the old one kept signing for an overlap. */
import { Router } from 'express';
import { z } from 'zod';
import { recordAudit } from '../../services/audit';
import { parseOrThrow } from '../../services/validation';
import { newWebhookSecret } from '../../shared/signing';
import { accountOf, actorOf } from '../auth';
import type { ApiDeps } from '../deps';
import { errors, requestBody, response, type OpenApiPaths } from '../openapi-helpers';

export const rotateBodySchema = z
  .object({
    overlapHours: z
      .number()
      .min(0)
      .max(24 * 30)
      .optional()
      .meta({
        description: 'How long the previous secret keeps signing; default WEBHOOK_SECRET_OVERLAP_HOURS (24)',
      }),
  })
  .strict()
  .meta({ id: 'RotateWebhookSecretInput' });

export const rotateResultSchema = z.object({
  webhookSecret: z.string().describe('The new secret (`whsec_` + base64); shown once, here'),
  previousSecretValidUntil: z.iso
    .datetime()
    .describe('Until then every webhook carries a signature with each secret'),
});

export const webhookSecretOpenApi: OpenApiPaths = {
  '/account/webhook-secret/rotate': {
    post: {
      tags: ['accounts'],
      summary: "Rotate the account's webhook signing secret",
      description:
        'During the overlap every webhook is signed with both secrets: two `v1=` entries in `X-Signature`, two ' +
        '`v1,` entries in `webhook-signature`. Rotating again during an overlap drops the oldest secret.',
      operationId: 'rotateWebhookSecret',
      requestBody: { ...requestBody(rotateBodySchema), required: false },
      responses: { '200': response(rotateResultSchema, 'The new secret'), ...errors(400, 401) },
    },
  },
};

export function webhookSecretRoutes({ db, config }: ApiDeps): Router {
  const r = Router();
  r.post('/account/webhook-secret/rotate', async (req, res) => {
    // No body means the defaults; a body must be the object (JSON null is not).
    const { overlapHours } = parseOrThrow(rotateBodySchema, req.body === undefined ? {} : req.body);
    const hours = overlapHours ?? config.WEBHOOK_SECRET_OVERLAP_HOURS;
    const secret = newWebhookSecret();
    const actor = actorOf(res);
    // The secrets never enter the audit trail: only that a rotation happened, and the overlap.
    const until = await db.transaction(async (m) => {
      const rows: { until: Date }[] = await m
        .query(
          `UPDATE accounts
          SET previous_webhook_secret = webhook_secret,
              previous_secret_valid_until = now() + make_interval(secs => $3),
              webhook_secret = $2
        WHERE id = $1
        RETURNING previous_secret_valid_until AS until`,
          [accountOf(res).id, secret, hours * 3600],
        )
        .then((r: [{ until: Date }[], number]) => r[0]);
      const validUntil = rows[0].until.toISOString();
      await recordAudit(m, {
        ...actor,
        entity: 'account',
        entityId: actor.accountId,
        action: 'rotate',
        after: { webhookSecret: 'rotated', previousSecretValidUntil: validUntil },
      });
      return validUntil;
    });
    res.json({ webhookSecret: secret, previousSecretValidUntil: until });
  });
  return r;
}
