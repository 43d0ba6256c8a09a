/** `npm run api`: the HTTP API against DATABASE_URL and TEMPORAL_ADDRESS. */
import { databaseUrl, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { createLogger } from '../logger';
import { startApi } from './server';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, 'api');
  const db = await openDatabase(databaseUrl(config));
  const api = await startApi({ config, db, log, port: config.PORT, host: config.HOST });
  log.info({ url: api.url }, 'api listening');
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'api draining');
    const force = setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_SECONDS * 1000 + 2000).unref();
    await api.stop();
    await db.destroy();
    clearTimeout(force);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
