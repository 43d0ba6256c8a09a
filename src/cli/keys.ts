/** `npm run cli -- key create|list|revoke`: what POST/GET/DELETE /keys do, as the operator. */
import { parseArgs } from 'node:util';
import { databaseUrl, type Config } from '../config';
import { openDatabase } from '../db/data-source';
import { AccountEntity } from '../db/entities';
import { KeyService, keyBodySchema } from '../services/keys';
import { parseOrThrow } from '../services/validation';
import { ApiError } from '../shared/errors';

export async function keyCommand(config: Config, sub: string | undefined, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { account: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } },
  });
  if (!values.account) throw new Error(`key ${sub ?? ''} needs --account ID`);
  const db = await openDatabase(databaseUrl(config));
  try {
    if (!(await db.getRepository(AccountEntity).existsBy({ id: values.account })))
      throw new Error(`no account ${values.account}`);
    const keys = new KeyService(db);
    // The operator acts without a key: audit entries name no key id.
    const actor = { accountId: values.account, keyId: null };
    if (sub === 'create') {
      const body = parseOrThrow(keyBodySchema, { name: values.name, role: values.role });
      console.log(JSON.stringify(await keys.create(actor, body)));
    } else if (sub === 'list') {
      const all = [];
      let cursor: string | undefined;
      do {
        const page = await keys.list(values.account, { limit: 200, cursor });
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      console.log(JSON.stringify(all));
    } else if (sub === 'revoke' && positionals.length === 1) {
      await keys.revoke(actor, positionals[0]);
      // Other API processes may still accept it for up to 30 s (their auth cache).
      console.log(JSON.stringify({ revoked: positionals[0] }));
    } else {
      throw new Error(
        'usage: key create --account ID --name N --role R | key list --account ID | key revoke --account ID KEY_ID',
      );
    }
    return 0;
  } catch (err) {
    if (err instanceof ApiError) throw new Error(err.message);
    throw err;
  } finally {
    await db.destroy();
  }
}
