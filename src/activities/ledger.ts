/**
 * The delivery ledger: one row per (run, action), keyed by the idempotency key (the table's primary
 * key, so two writers cannot both record one action).
 *
 * - Checked before a send: an activity retried after its send succeeded (the worker died before it
 *   reported completion, or the completion was lost) returns the recorded result and sends nothing.
 * - Written right after the send, retried in-process a few times, and a failed write does not fail
 *   the activity: failing it would make Temporal retry and send again.
 * - Within one process, a second attempt of a send that is still running (its attempt timed out on
 *   the server but the request is still in flight) waits for that send instead of starting another.
 * - Outbox deliveries write the message and the ledger row in one transaction: exactly once.
 *
 * The window that remains is described in docs/channels.md.
 */
import { log } from '@temporalio/activity';
import type { DataSource, EntityManager } from 'typeorm';
import { DeliveryEntity, OutboxEntity, type OutboxMessage } from '../db/entities';
import type { DeliveryContext, DeliveryResult } from '../shared/run-types';

export type Channel = 'sms' | 'email' | 'webhook';

/** Sends that are running in this process, by idempotency key. */
const inFlight = new Map<string, Promise<DeliveryResult>>();

const RECORD_ATTEMPTS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function findDelivery(db: DataSource, idempotencyKey: string) {
  return db.getRepository(DeliveryEntity).findOneBy({ idempotencyKey });
}

function ledgerRow(ctx: DeliveryContext, channel: Channel, providerId: string | null) {
  return {
    idempotencyKey: ctx.idempotencyKey,
    accountId: ctx.accountId,
    workflowId: ctx.workflowId,
    actionIndex: ctx.actionIndex,
    channel,
    providerId,
  };
}

async function insertLedger(
  m: EntityManager,
  ctx: DeliveryContext,
  channel: Channel,
  providerId: string | null,
): Promise<void> {
  await m
    .createQueryBuilder()
    .insert()
    .into(DeliveryEntity)
    .values(ledgerRow(ctx, channel, providerId))
    .orIgnore()
    .execute();
}

/** Records a provider delivery; never throws (see the module comment). */
async function record(db: DataSource, ctx: DeliveryContext, channel: Channel, result: DeliveryResult) {
  for (let i = 1; ; i++) {
    try {
      await insertLedger(db.manager, ctx, channel, result.providerId);
      return;
    } catch (err) {
      if (i >= RECORD_ATTEMPTS) {
        log.error('delivered, but the ledger write failed: a retry of this activity could send again', {
          idempotencyKey: ctx.idempotencyKey,
          channel,
          error: (err as Error).message,
        });
        return;
      }
      await sleep(100 * 2 ** i);
    }
  }
}

/**
 * Sends at most once per idempotency key as far as this process and the ledger can tell. `send`
 * runs only when the ledger has no row for the key and no send for it is in flight here.
 */
export function deliverOnce(
  db: DataSource,
  ctx: DeliveryContext,
  channel: Channel,
  send: () => Promise<DeliveryResult>,
): Promise<DeliveryResult> {
  const running = inFlight.get(ctx.idempotencyKey);
  if (running) return running;
  const p = (async (): Promise<DeliveryResult> => {
    const recorded = await findDelivery(db, ctx.idempotencyKey);
    if (recorded) return { providerId: recorded.providerId, via: 'ledger' };
    const result = await send();
    // The outbox path wrote its ledger row in the same transaction as the message.
    if (result.via === 'provider') await record(db, ctx, channel, result);
    return result;
  })();
  inFlight.set(ctx.idempotencyKey, p);
  const forget = () => {
    if (inFlight.get(ctx.idempotencyKey) === p) inFlight.delete(ctx.idempotencyKey);
  };
  p.then(forget, forget);
  return p;
}

export type OutboxContent = Pick<OutboxMessage, 'recipient'> &
  Partial<Pick<OutboxMessage, 'subject' | 'body' | 'html' | 'payload'>>;

/** Stores the message in the account's outbox and records the delivery, atomically. */
export async function deliverToOutbox(
  db: DataSource,
  ctx: DeliveryContext,
  channel: Channel,
  id: string,
  content: OutboxContent,
): Promise<DeliveryResult> {
  return db.transaction(async (m) => {
    await m
      .createQueryBuilder()
      .insert()
      .into(OutboxEntity)
      .values({
        id,
        accountId: ctx.accountId,
        channel,
        workflowId: ctx.workflowId,
        ruleId: ctx.ruleId,
        idempotencyKey: ctx.idempotencyKey,
        subject: content.subject ?? null,
        body: content.body ?? null,
        html: content.html ?? null,
        recipient: content.recipient,
        ...(content.payload !== undefined && { payload: content.payload as object }),
      })
      .orIgnore()
      .execute();
    // On a conflict the row of the earlier attempt stays; report its id, not the one just made up.
    const stored = await m
      .getRepository(OutboxEntity)
      .findOneByOrFail({ idempotencyKey: ctx.idempotencyKey });
    await insertLedger(m, ctx, channel, stored.id);
    return { providerId: stored.id, via: 'outbox' as const };
  });
}
