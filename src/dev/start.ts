/**
 * `npm start`: the whole system on one machine. Embedded PostgreSQL (unless DATABASE_URL), the Temporal
 * dev server (unless TEMPORAL_ADDRESS), migrations, the worker and the API, all in this process tree;
 * SIGINT/SIGTERM stops everything it started.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { NativeConnection } from '@temporalio/worker';
import { generateEncryptionKeys } from '../codec';
import {
  databaseUrl,
  dataDirKeysFile,
  loadConfig,
  temporalAddress,
  withDataDirKeys,
  type Config,
} from '../config';
import { openDatabase } from '../db/data-source';
import { createLogger, temporalLogger } from '../logger';
import { migrate } from '../cli/main';
import { startApi } from '../api/server';
import { temporalConnectionOptions } from '../temporal';
import { createWorker, installRuntime } from '../worker/worker';
import { devAccount, localSecrets, persistent, printBanner } from './banner';
import { startPostgres, startTemporalDevServer, type Service } from './services';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  const t0 = Date.now();
  let config: Config = loadConfig();
  const dataDir = path.resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  // The product's parts stop first, last started first (API, then the worker drains); the embedded
  // servers they use stop after them, together (neither depends on the other: ~1.5 s instead of ~2.2 s).
  const started: Service[] = [];
  const servers: Service[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) {
      await s.stop().catch(() => undefined);
    }
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  };

  try {
    if (!config.DATABASE_URL) {
      say(
        `• starting embedded PostgreSQL on 127.0.0.1:${config.EMBEDDED_PG_PORT} (${path.join(dataDir, 'postgres')})`,
      );
      const pg = await startPostgres({ dataDir, port: config.EMBEDDED_PG_PORT });
      servers.push(pg);
    }
    const applied = await migrate(databaseUrl(config));
    say(`• database migrated${applied.length ? ` (${applied.join(', ')})` : ', up to date'}`);

    // History is encrypted from the first run on: keys from PAYLOAD_ENCRYPTION_KEYS, else generated once.
    if (!config.PAYLOAD_ENCRYPTION_KEYS) persistent(dataDirKeysFile(config), () => generateEncryptionKeys());
    config = withDataDirKeys(config);

    let uiUrl = 'the UI of your Temporal cluster';
    if (!config.TEMPORAL_ADDRESS) {
      const uiOrigin = `http://127.0.0.1:${config.TEMPORAL_DEV_UI_PORT}`;
      // The Web UI decodes through the API's codec endpoint, which lets that origin in from loopback.
      config = {
        ...config,
        CODEC_CORS_ORIGINS: [
          ...config.CODEC_CORS_ORIGINS,
          uiOrigin,
          uiOrigin.replace('127.0.0.1', 'localhost'),
        ],
      };
      say(
        `• starting Temporal dev server on 127.0.0.1:${config.TEMPORAL_DEV_PORT} (${path.join(dataDir, 'temporal')})`,
      );
      const temporal = await startTemporalDevServer({
        dataDir: path.join(dataDir, 'temporal'),
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_DEV_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        uiCodecEndpoint: `http://127.0.0.1:${config.PORT}/codec`,
        retentionSeconds: config.TEMPORAL_RETENTION,
      });
      servers.push(temporal);
      uiUrl = temporal.uiUrl!;
    }

    const { adminToken, unsubscribeSecret } = localSecrets(config, dataDir);
    config = { ...config, ADMIN_TOKEN: adminToken, UNSUBSCRIBE_SECRET: unsubscribeSecret };

    const log = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, 'crm');
    const db = await openDatabase(databaseUrl(config));
    started.push({ stop: () => db.destroy() });

    const dev = await devAccount(db, dataDir);

    // The worker's Prometheus endpoint, which the API's GET /metrics appends.
    if (!config.WORKER_METRICS_PORT) config = { ...config, WORKER_METRICS_PORT: await freePort() };
    installRuntime(config, temporalLogger(log));
    const connection = await NativeConnection.connect(temporalConnectionOptions(config));
    const { worker, close } = await createWorker({ config, db, connection });
    const running = worker.run();
    started.push({
      stop: async () => {
        worker.shutdown();
        await running;
        close();
        await connection.close();
      },
    });

    const api = await startApi({
      config,
      db,
      log,
      port: config.PORT,
      host: config.HOST,
      extraMetricsUrls: [`http://127.0.0.1:${config.WORKER_METRICS_PORT}/metrics`],
      workerConnection: connection,
    });
    started.push(api);

    printBanner({
      config,
      startedAt: t0,
      apiUrl: api.url,
      uiUrl,
      temporalAddress: temporalAddress(config),
      dev,
    });

    await new Promise<void>((resolve) => {
      // Ctrl-C reaches this process more than once (from the terminal and relayed by npm/tsx): every
      // signal after the first is ignored so the orderly stop below is never cut short.
      process.on('SIGINT', resolve);
      process.on('SIGTERM', resolve);
      void running.catch((err) => {
        say(`worker stopped: ${(err as Error).message}`);
        resolve();
      });
    });
    const stopping = Date.now();
    say('stopping… (in-flight deliveries get up to SHUTDOWN_GRACE_SECONDS)');
    // The worker's drain is bounded by the grace period; the rest takes a second or two.
    const force = setTimeout(
      () => {
        say(`stop took too long: exiting anyway (${((Date.now() - stopping) / 1000).toFixed(1)} s)`);
        process.exit(1);
      },
      config.SHUTDOWN_GRACE_SECONDS * 1000 + 4_000,
    ).unref();
    await stopAll();
    clearTimeout(force);
    say(`stopped (${((Date.now() - stopping) / 1000).toFixed(1)} s)`);
    process.exit(0);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

main().catch((err) => {
  console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
