/**
 * A rule's send time for one event, with the window's timezone resolved from the database: the
 * planSend activity and the dry run both call this, so a dry run shows what a real run would plan.
 */
import type { DataSource } from 'typeorm';
import { AccountEntity } from '../db/entities';
import type { RunEvent } from '../shared/run-types';
import type { Rule } from '../shared/schemas';
import { computeSendTime, type SendTime } from '../shared/send-time';
import { findUser } from './plan';

/** A window's timezone: its own, or for `user` the event user's, else the account's. */
export async function windowZone(
  db: DataSource,
  accountId: string,
  rule: Pick<Rule, 'window'>,
  event: Pick<RunEvent, 'userId'>,
): Promise<string> {
  if (!rule.window) return 'UTC';
  if (rule.window.timezone !== 'user') return rule.window.timezone;
  const user = event.userId ? await findUser(db, accountId, event.userId) : null;
  if (user?.timezone) return user.timezone;
  const account = await db.getRepository(AccountEntity).findOneBy({ id: accountId });
  return account?.timezone ?? 'UTC';
}

export async function sendTimeFor(
  db: DataSource,
  accountId: string,
  rule: Pick<Rule, 'delay' | 'window'>,
  event: RunEvent,
  now: number,
): Promise<SendTime> {
  return computeSendTime(rule, event, now, await windowZone(db, accountId, rule, event));
}
