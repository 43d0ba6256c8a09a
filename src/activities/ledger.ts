/**
 * The delivery ledger: one row per (run, action), keyed by the idempotency key. Checked before a
 * send and written after it, so an activity retried after its send succeeded returns the recorded
 * result instead of sending again. The window that remains (the process dies after the provider
 * accepted the message but before the row is written) is closed for webhooks by `Idempotency-Key`.
 */
import type { DataSource } from 'typeorm';
import { DeliveryEntity } from '../db/entities';
import type { DeliveryContext, DeliveryResult } from '../shared/run-types';

export async function deliverOnce(
  db: DataSource,
  ctx: DeliveryContext,
  channel: string,
  send: () => Promise<DeliveryResult>,
): Promise<DeliveryResult> {
  const repo = db.getRepository(DeliveryEntity);
  const recorded = await repo.findOneBy({ idempotencyKey: ctx.idempotencyKey });
  if (recorded) return { providerId: recorded.providerId, via: 'ledger' };
  const result = await send();
  await repo
    .createQueryBuilder()
    .insert()
    .values({
      idempotencyKey: ctx.idempotencyKey,
      accountId: ctx.accountId,
      workflowId: ctx.workflowId,
      actionIndex: ctx.actionIndex,
      channel,
      providerId: result.providerId,
    })
    .orIgnore()
    .execute();
  return result;
}
