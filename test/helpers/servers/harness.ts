/**
 * Runs the delivery activities the way the worker does, through the SDK's activity test harness
 * (MockActivityEnvironment: a real activity Context with attempt numbers and cancellation), against
 * the test run's PostgreSQL and the local servers in this folder.
 */
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { DataSource } from 'typeorm';
import {
  createChannelActivities,
  type ChannelDeps,
  type FailureDetails,
} from '../../../src/activities/channels';
import { loadConfig, type Config } from '../../../src/config';
import { openDatabase } from '../../../src/db/data-source';
import { createAccount, type CreatedAccount } from '../../../src/services/accounts';
import { newId } from '../../../src/shared/ids';
import type { DeliveryContext } from '../../../src/shared/run-types';

export type ChannelActivities = ReturnType<typeof createChannelActivities>;

export async function openTestDb(): Promise<DataSource> {
  return openDatabase(process.env.TEST_DATABASE_URL!);
}

export async function testAccount(db: DataSource, name = 'Channels test'): Promise<CreatedAccount> {
  return createAccount(db, name);
}

/** The product's config parser over a test environment. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: process.env.TEST_DATABASE_URL, ...env });
}

export function activities(deps: ChannelDeps): ChannelActivities {
  return createChannelActivities(deps);
}

/** A context as the rule-run workflow builds it: one idempotency key per (run, action). */
export function deliveryContext(accountId: string, actionIndex = 0): DeliveryContext {
  const workflowId = `run-rule_test-${newId('evt', 10)}`;
  return {
    accountId,
    workflowId,
    ruleId: 'rule_test',
    actionIndex,
    idempotencyKey: `${workflowId}.action-${actionIndex}`,
  };
}

const quiet = new DefaultLogger('ERROR');

/** Runs `fn(...args)` as attempt `attempt` of an activity. */
export function attempt<A extends unknown[], R>(
  n: number,
  fn: (...args: A) => Promise<R>,
  ...args: A
): Promise<R> {
  return new MockActivityEnvironment({ attempt: n }, { logger: quiet }).run(fn, ...args);
}

/** An environment kept by the test, to cancel the activity while it runs. */
export function environment(n = 1): MockActivityEnvironment {
  return new MockActivityEnvironment({ attempt: n }, { logger: quiet });
}

/** The ApplicationFailure a delivery attempt threw (fails the test when it did not throw one). */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure & { info: FailureDetails }> {
  let thrown: unknown;
  try {
    await p;
  } catch (err) {
    thrown = err;
  }
  if (!(thrown instanceof ApplicationFailure)) {
    throw new Error(
      `expected an ApplicationFailure, got ${thrown === undefined ? 'success' : String(thrown)}`,
    );
  }
  return Object.assign(thrown, { info: thrown.details?.[0] as FailureDetails });
}

export const PERMANENT = 'PermanentDeliveryError';
export const TRANSIENT = 'TransientDeliveryError';
