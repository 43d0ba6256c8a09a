/**
 * `npm run start:cluster`: the production topology on this machine (./cluster.ts): PostgreSQL, the
 * Temporal frontend, history, matching and worker services, the API and two worker processes, each a
 * supervised process of its own. Ctrl-C reaches only this process, which stops them in order: the
 * API, the workers (they drain), Temporal, PostgreSQL.
 *
 * Ports: PORT (API), TEMPORAL_DEV_PORT (the frontend, so `npm run temporal` works as beside
 * `npm start`), EMBEDDED_PG_PORT; the services' internal ports are free ones. Files: DATA_DIR.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { generateEncryptionKeys } from '../codec';
import { dataDirKeysFile, formatDuration, loadConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { devAccount, localSecrets, persistent, printBanner } from './banner';
import { Cluster } from './cluster';
import { NUM_HISTORY_SHARDS } from './cluster-temporal';
import { TEMPORAL_SERVER_VERSION } from './versions';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

async function main() {
  const t0 = Date.now();
  const config = loadConfig();
  if (config.DATABASE_URL || config.TEMPORAL_ADDRESS) {
    throw new Error(
      'start:cluster runs its own PostgreSQL and Temporal: unset DATABASE_URL and TEMPORAL_ADDRESS',
    );
  }
  const dataDir = path.resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const keys =
    process.env.PAYLOAD_ENCRYPTION_KEYS?.trim() ||
    persistent(dataDirKeysFile(config), generateEncryptionKeys);
  const { adminToken, unsubscribeSecret } = localSecrets(config, dataDir);

  say(`• Temporal server v${TEMPORAL_SERVER_VERSION}, ${NUM_HISTORY_SHARDS} history shards (${dataDir})`);
  const cluster = Cluster.create({
    dataDir,
    postgresPort: config.EMBEDDED_PG_PORT,
    frontendPort: config.TEMPORAL_DEV_PORT,
    namespace: config.TEMPORAL_NAMESPACE,
    retentionSeconds: config.TEMPORAL_RETENTION,
    apiPort: config.PORT,
    workers: 2,
    appEnv: {
      ADMIN_TOKEN: adminToken,
      UNSUBSCRIBE_SECRET: unsubscribeSecret,
      PAYLOAD_ENCRYPTION_KEYS: keys,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    },
    log: (m) => say(`• ${m}`),
  });
  let up = false;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      say('stopping: API, workers (draining), Temporal services, PostgreSQL…');
      await cluster.stop();
    })());
  // Ctrl-C reaches only this process (the children have process groups of their own): stop them in order.
  const signalled = new Promise<void>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  void signalled.then(async () => {
    if (up) return;
    // Still starting: stop what has started so far.
    await stop();
    process.exit(130);
  });

  try {
    await cluster.boot();
  } catch (err) {
    await stop();
    throw err;
  }
  up = true;

  const db = await openDatabase(cluster.databaseUrl, 1);
  const dev = await devAccount(db, dataDir).finally(() => db.destroy());
  const pids = (name: string, p: { pid: number }[]) => `${name} ${p.map((x) => x.pid).join(', ')}`;
  printBanner({
    config: { ...config, ADMIN_TOKEN: adminToken },
    startedAt: t0,
    apiUrl: cluster.apiUrl!,
    uiUrl: 'none in the cluster (npm start has one); use the CLI below',
    temporalAddress: cluster.address,
    dev,
    extra: [
      `Processes    ${[
        pids('PostgreSQL', [cluster.postgres]),
        ...Object.entries(cluster.temporal).map(([n, s]) => pids(n, [s])),
        pids('API', [cluster.api!]),
        pids('workers', cluster.workers),
      ].join(' · ')}`,
      `Retention    ${formatDuration(config.TEMPORAL_RETENTION)}; older runs archived to ${cluster.archiveUri}`,
    ],
  });

  await signalled;
  await stop();
  say('stopped.');
  process.exit(0);
}

main().catch((err) => {
  console.error(`npm run start:cluster failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
