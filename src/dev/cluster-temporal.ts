/**
 * The Temporal server of the cluster (./cluster.ts): its services, the schema step, the config file
 * every service reads, and the namespace with its retention, archival and search attributes.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_NAMES } from '../shared/constants';
import { resolveTemporalServer } from './temporal-server';

const ROOT = path.resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalServiceName = (typeof TEMPORAL_SERVICES)[number];
/**
 * Fixed when the database is created and never changeable afterwards (a new cluster and a migration
 * would be needed): 4 is plenty for one machine; docs/performance.md sizes it for more.
 */
export const NUM_HISTORY_SHARDS = 4;

/** Runs scripts/temporal-schema.sh (what compose's temporal-schema service runs) against `pgPort`. */
export async function setupTemporalSchema(pgPort: number, bins = resolveTemporalServer()): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(
    'sh',
    [path.join(ROOT, 'scripts/temporal-schema.sh')],
    {
      env: {
        ...process.env,
        TEMPORAL_SQL_TOOL: bins.sqlTool,
        SCHEMA_DIR: bins.schemaDir,
        POSTGRES_SEEDS: '127.0.0.1',
        DB_PORT: String(pgPort),
        POSTGRES_USER: 'postgres',
        SQL_PASSWORD: 'postgres',
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout + stderr;
}

export function serverConfig(o: {
  dataDir: string;
  pgPort: number;
  ports: Record<TemporalServiceName, { grpcPort: number; membershipPort: number }>;
  dynamicConfigFile: string;
  archiveUri: string;
}) {
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${o.pgPort}`,
      connectProtocol: 'tcp',
      user: 'postgres',
      password: 'postgres',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: NUM_HISTORY_SHARDS,
      // Per service process: 4 × (20 + 5) of PostgreSQL's max_connections (200), the product gets the rest.
      datastores: { default: sql('temporal', 20), visibility: sql('temporal_visibility', 5) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: Object.fromEntries(
      TEMPORAL_SERVICES.map((s) => [s, { rpc: { ...o.ports[s], bindOnIP: '127.0.0.1' } }]),
    ),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${o.ports.frontend.grpcPort}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    // Closed runs older than the namespace's retention are copied here before deletion.
    archival: {
      history: {
        state: 'enabled',
        enableRead: true,
        provider: { filestore: { fileMode: '0640', dirMode: '0750' } },
      },
      visibility: { state: 'disabled' },
    },
    namespaceDefaults: {
      archival: {
        history: { state: 'enabled', URI: o.archiveUri },
        visibility: { state: 'disabled' },
      },
    },
    dynamicConfigClient: { filepath: o.dynamicConfigFile, pollInterval: '10s' },
  };
}

/** The dev server's settings (src/dev/services.ts), so both behave alike. */
export const DYNAMIC_CONFIG: Record<string, unknown> = {
  'system.enableEagerWorkflowStart': true,
  'system.enableActivityEagerExecution': true,
  'matching.enableFairness': true,
  // New search attributes and namespaces are seen at once rather than after the 10 s cache refresh.
  'system.forceSearchAttributesCacheRefreshOnRead': true,
  'system.namespaceCacheRefreshInterval': '2s',
};

export async function connectFrontend(address: string, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.workflowService.getSystemInfo({});
      return c;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`Temporal frontend at ${address}: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

/** gRPC NOT_FOUND (5): a namespace or run that does not exist (yet). */
export const isNotFound = (err: unknown) => (err as { code?: number }).code === 5;

/** Registers the namespace (or updates its retention) and adds the search attributes it lacks. */
export async function registerNamespace(
  conn: Connection,
  o: { namespace: string; retentionSeconds: number; archiveUri: string },
): Promise<void> {
  const retention = msToTs(o.retentionSeconds * 1000);
  const enabled = temporal.api.enums.v1.ArchivalState.ARCHIVAL_STATE_ENABLED;
  try {
    const ns = await conn.workflowService.describeNamespace({ namespace: o.namespace });
    if (Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0) !== o.retentionSeconds) {
      await conn.workflowService.updateNamespace({
        namespace: o.namespace,
        config: { workflowExecutionRetentionTtl: retention },
      });
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await conn.workflowService.registerNamespace({
      namespace: o.namespace,
      workflowExecutionRetentionPeriod: retention,
      historyArchivalState: enabled,
      historyArchivalUri: o.archiveUri,
    });
  }
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  for (;;) {
    try {
      const { customAttributes } = await conn.operatorService.listSearchAttributes({
        namespace: o.namespace,
      });
      const missing = SEARCH_ATTRIBUTE_NAMES.filter((n) => !customAttributes?.[n]);
      if (missing.length) {
        await conn.operatorService.addSearchAttributes({
          namespace: o.namespace,
          searchAttributes: Object.fromEntries(missing.map((n) => [n, keyword])),
        });
      }
      return;
    } catch (err) {
      // The namespace is not in every service's cache yet (refreshed every 2 s).
      if (!isNotFound(err)) throw err;
      await sleep(500);
    }
  }
}
