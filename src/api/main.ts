/**
 * `npm run api` (or `node dist/src/api/main.js` in the image): the HTTP API against DATABASE_URL and
 * TEMPORAL_ADDRESS.
 *
 * SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish (at most
 * SHUTDOWN_GRACE_SECONDS), close the Temporal connection and the database pool, exit 0. Repeated
 * signals are ignored; a drain that outlives the grace period (+2 s) exits 1.
 */
import { databaseUrl, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { createLogger } from '../logger';
import { startApi } from './server';

/** See createDataSource: the API answers within a client's patience, a 503 at worst. */
const API_DB_CONNECT_TIMEOUT_MS = 2000;

async function main() {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, 'api');
  const db = await openDatabase(databaseUrl(config), undefined, API_DB_CONNECT_TIMEOUT_MS);
  const api = await startApi({ config, db, log, port: config.PORT, host: config.HOST });
  log.info({ url: api.url, host: config.HOST, port: config.PORT }, 'api listening');

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    // npm and the terminal can both deliver one Ctrl-C: repeats are ignored, the force timer bounds the wait.
    if (stopping) return;
    stopping = true;
    const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
    log.info({ signal, graceSeconds: config.SHUTDOWN_GRACE_SECONDS }, 'api draining');
    const force = setTimeout(() => {
      log.error({ graceSeconds: config.SHUTDOWN_GRACE_SECONDS }, 'drain outlived the grace period: exiting');
      process.exit(1);
    }, graceMs + 2000);
    force.unref();
    try {
      await api.stop();
      await db.destroy();
    } catch (err) {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    }
    clearTimeout(force);
    log.info('api stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}

main().catch((err: unknown) => {
  console.error(`api failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
