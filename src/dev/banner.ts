/**
 * What `npm start` and `npm run start:cluster` share: secrets and the dev account kept in the data
 * dir, and the banner that says where everything is.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { AccountEntity } from '../db/entities';
import { createAccount, type CreatedAccount } from '../services/accounts';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

/** A value generated once and kept (mode 0600) in `file`. */
export function persistent(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600 });
  return value;
}

/** ADMIN_TOKEN and UNSUBSCRIBE_SECRET, else generated once into the data dir (links in sent emails keep working). */
export function localSecrets(config: Config, dataDir: string) {
  return {
    adminToken:
      config.ADMIN_TOKEN ??
      persistent(path.join(dataDir, 'admin-token'), () => randomBytes(24).toString('base64url')),
    unsubscribeSecret:
      config.UNSUBSCRIBE_SECRET ??
      persistent(path.join(dataDir, 'unsubscribe-secret'), () => randomBytes(32).toString('base64url')),
  };
}

/** The dev account; its key is kept in the data dir (the database stores only its hash). */
export async function devAccount(db: DataSource, dataDir: string): Promise<CreatedAccount> {
  const devFile = path.join(dataDir, 'dev-account.json');
  let dev: CreatedAccount | null = existsSync(devFile) ? JSON.parse(readFileSync(devFile, 'utf8')) : null;
  if (!dev || !(await db.getRepository(AccountEntity).existsBy({ id: dev.id }))) {
    dev = await createAccount(db, 'Dev account');
    writeFileSync(devFile, JSON.stringify(dev, null, 2) + '\n', { mode: 0o600 });
  }
  return dev;
}

export function printBanner(o: {
  config: Config;
  startedAt: number;
  apiUrl: string;
  uiUrl: string;
  temporalAddress: string;
  dev: CreatedAccount;
  /** Lines after the Temporal CLI's (the cluster's processes). */
  extra?: string[];
}): void {
  const { config, apiUrl, dev } = o;
  const outbox = [!config.SMTP_URL && 'email', !config.twilio && 'SMS'].filter(Boolean);
  say('');
  say(`CRM Automation Engine is up (${((Date.now() - o.startedAt) / 1000).toFixed(1)} s)`);
  say(`  API          ${apiUrl}   (docs: ${apiUrl}/docs)`);
  say(`  Web app      ${apiUrl}/  (sign in with the API key below)`);
  say(`  Temporal UI  ${o.uiUrl}`);
  say(
    `  Temporal CLI npm run temporal -- workflow list   (${o.temporalAddress}, namespace ${config.TEMPORAL_NAMESPACE})`,
  );
  for (const line of o.extra ?? []) say(`  ${line}`);
  say(`  Admin token  ${config.ADMIN_TOKEN}`);
  say(`  Dev account  ${dev.id}   API key: ${dev.apiKey}`);
  say(
    `  Outbox mode  ${outbox.length ? `${outbox.join(' and ')} (GET /outbox shows what would have been sent)` : 'off'}`,
  );
  say('');
  say(`  curl -H "Authorization: Bearer ${dev.apiKey}" ${apiUrl}/rules`);
  say('Press Ctrl-C to stop.');
}
