/**
 * `npm run cli -- <command>`:
 *   account create --name NAME [--sms-from +1…]   prints {"id","name","apiKey","webhookSecret"}
 *   key create --account ID --name N --role ingest|read|full   prints {"id","name","role","key","createdAt"}
 *   key list --account ID        prints the account's keys (no secrets)
 *   key revoke --account ID KEY_ID
 *   migrate                      applies pending migrations
 *   replay FILE.json | --workflow-id ID | --query "RuleId='…'"
 */
import { parseArgs } from 'node:util';
import { databaseUrl, loadConfig, withDataDirKeys } from '../config';
import { createDataSource, openDatabase } from '../db/data-source';
import { createAccount } from '../services/accounts';
import { keyCommand } from './keys';
import { phoneSchema } from '../shared/schemas';
import { replayCommand } from './replay';

const USAGE = `usage: npm run cli -- <command>
  account create --name NAME [--sms-from E164]   (--sms-from: the account's own Twilio number)
  key create --account ID --name NAME --role ingest|read|full
  key list --account ID
  key revoke --account ID KEY_ID
  migrate
  replay FILE.json | --workflow-id ID | --query "RuleId='...'"`;

export async function migrate(url: string): Promise<string[]> {
  const db = await createDataSource(url).initialize();
  try {
    const applied = await db.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await db.destroy();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  const config = loadConfig();
  if (command === 'migrate') {
    const applied = await migrate(databaseUrl(config));
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    return 0;
  }
  if (command === 'account' && sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, 'sms-from': { type: 'string' } },
    });
    if (!values.name?.trim()) throw new Error('account create needs --name NAME');
    const smsFrom = values['sms-from'];
    if (smsFrom !== undefined && !phoneSchema.safeParse(smsFrom).success) {
      throw new Error('--sms-from must be an E.164 phone number such as +15551234567');
    }
    const db = await openDatabase(databaseUrl(config));
    try {
      console.log(JSON.stringify(await createAccount(db, values.name.trim(), smsFrom)));
    } finally {
      await db.destroy();
    }
    return 0;
  }
  if (command === 'key') return keyCommand(config, sub, rest);
  if (command === 'replay') return replayCommand(withDataDirKeys(config), argv.slice(1));
  console.error(USAGE);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((err) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
