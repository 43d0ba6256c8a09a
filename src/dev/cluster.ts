/**
 * The production topology on one machine, without Docker: PostgreSQL, Temporal's schema (by the same
 * script compose runs), the Temporal frontend, history, matching and worker services as four processes
 * of the pinned server (src/dev/versions.ts), the namespace with its retention, archival and search
 * attributes, then the product's API and its worker processes. Every process is supervised
 * (./supervisor.ts): one that dies is restarted, as compose restarts a container.
 *
 * `npm run start:cluster` (./start-cluster.ts), test/e2e/cluster.test.ts, the cluster drills and the
 * cluster bench all start it through `Cluster.start`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { migrate } from '../cli/main';
import {
  connectFrontend,
  DYNAMIC_CONFIG,
  isNotFound,
  registerNamespace,
  serverConfig,
  setupTemporalSchema,
  TEMPORAL_SERVICES,
  type TemporalServiceName,
} from './cluster-temporal';
import { ensureDatabase, type postgresCommand } from './services';
import { Supervised } from './supervisor';
import { resolveTemporalServer, type TemporalServerBinaries } from './temporal-server';

const ROOT = path.resolve(__dirname, '../..');

/**
 * The nice value of every process but the API. When the machine runs short of CPU, the scheduler
 * shares it evenly, and the API, which a CRM waits on, got no more than each of the eight others:
 * after a history restart under load it was scheduled about a quarter of the time and left new
 * connections unanswered for seconds (docs/reliability.md, c1). At nice 5 the others weigh 335
 * against the API's 1024, so the API is served first; with a spare core nothing changes. Lowering
 * the others needs no privilege, where raising the API would.
 */
export const BEHIND_API_NICE = 5;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ProcessSpec {
  /** A TypeScript entry point run with `node --import tsx`, relative to the repository root. */
  entry: string;
  args?: string[];
  env?: Record<string, string | undefined>;
}

export interface ClusterOptions {
  dataDir: string;
  postgresPort: number;
  frontendPort: number;
  namespace: string;
  retentionSeconds: number;
  /** Environment of the API and the workers (ADMIN_TOKEN, PAYLOAD_ENCRYPTION_KEYS, TEMPORAL_TASK_QUEUE …). */
  appEnv: Record<string, string | undefined>;
  /** The API's port; without it no API is started. */
  apiPort?: number;
  workers: number;
  /** The worker entry point: `npm run worker`'s (src/worker/main.ts) unless given. */
  worker?: ProcessSpec;
  log?: (msg: string) => void;
}

/**
 * A free port on 127.0.0.1 for the cluster's servers, below 32768: Temporal keeps membership ports in a
 * smallint column (cluster_membership.rpc_port), and outside Linux's ephemeral range (32768–60999) an
 * outgoing connection cannot take the port between this check and a restart of the server.
 */
export async function freePort(below = 32_768): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer().once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export class Cluster {
  readonly address: string;
  readonly databaseUrl: string;
  readonly temporal = {} as Record<TemporalServiceName, Supervised>;
  postgres!: Supervised;
  api?: Supervised;
  readonly workers: Supervised[] = [];
  private workersStarted = 0;
  apiUrl?: string;
  readonly archiveUri: string;
  /** Each process's output, appended across restarts: DATA_DIR/logs/<name>.log. */
  readonly logDir: string;
  private connection?: Connection;
  private stopped = false;
  private readonly log: (msg: string) => void;

  private constructor(
    readonly opts: ClusterOptions,
    readonly bins: TemporalServerBinaries,
  ) {
    this.address = `127.0.0.1:${opts.frontendPort}`;
    this.databaseUrl = `postgres://postgres:postgres@127.0.0.1:${opts.postgresPort}/crm`;
    this.archiveUri = `file://${path.resolve(opts.dataDir, 'archival', 'history')}`;
    this.log = opts.log ?? (() => undefined);
    this.logDir = path.resolve(opts.dataDir, 'logs');
  }

  /** Not started yet: `boot()` starts it, `stop()` stops whatever has started (also mid-boot). */
  static create(opts: ClusterOptions): Cluster {
    return new Cluster(opts, resolveTemporalServer());
  }

  static async start(opts: ClusterOptions): Promise<Cluster> {
    const c = Cluster.create(opts);
    try {
      await c.boot();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  /** The SDK connection to the frontend (reconnects by itself across frontend restarts). */
  get conn(): Connection {
    return this.connection!;
  }

  async boot(): Promise<void> {
    const { dataDir, postgresPort } = this.opts;
    mkdirSync(dataDir, { recursive: true });
    this.log(`starting PostgreSQL on 127.0.0.1:${postgresPort} (${path.join(dataDir, 'postgres')})`);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'postgres-command.ts'), dataDir, String(postgresPort)],
      { cwd: ROOT },
    );
    const pg = JSON.parse(stdout.trim().split('\n').pop()!) as Awaited<ReturnType<typeof postgresCommand>>;
    mkdirSync(this.logDir, { recursive: true });
    this.postgres = new Supervised({
      name: 'postgresql',
      ...pg,
      stopSignal: 'SIGINT',
      stopGraceMs: 30_000,
      logFile: path.join(this.logDir, 'postgresql.log'),
      nice: BEHIND_API_NICE,
    });
    await this.waitForPostgres(60_000);
    await ensureDatabase(postgresPort);
    await setupTemporalSchema(postgresPort, this.bins);
    this.log('Temporal schema up to date (scripts/temporal-schema.sh)');
    const applied = await migrate(this.databaseUrl);
    this.log(`product database migrated${applied.length ? ` (${applied.join(', ')})` : ', up to date'}`);

    const configDir = path.join(dataDir, 'temporal-config');
    mkdirSync(configDir, { recursive: true });
    mkdirSync(new URL(this.archiveUri).pathname, { recursive: true });
    // JSON is YAML: the server reads both files as YAML.
    const dynamicConfigFile = path.join(configDir, 'dynamicconfig.yaml');
    writeFileSync(
      dynamicConfigFile,
      JSON.stringify(
        Object.fromEntries(Object.entries(DYNAMIC_CONFIG).map(([k, v]) => [k, [{ value: v }]])),
        null,
        2,
      ),
    );
    const ports = {} as Record<TemporalServiceName, { grpcPort: number; membershipPort: number }>;
    for (const s of TEMPORAL_SERVICES) {
      ports[s] = {
        grpcPort: s === 'frontend' ? this.opts.frontendPort : await freePort(),
        membershipPort: await freePort(),
      };
    }
    const configFile = path.join(configDir, 'temporal.yaml');
    writeFileSync(
      configFile,
      JSON.stringify(
        serverConfig({
          dataDir,
          pgPort: postgresPort,
          ports,
          dynamicConfigFile,
          archiveUri: this.archiveUri,
        }),
        null,
        2,
      ),
    );
    this.log(`starting Temporal ${TEMPORAL_SERVICES.join(', ')} (frontend ${this.address})`);
    if (this.stopped) throw new Error('the cluster is stopping');
    for (const s of TEMPORAL_SERVICES) {
      this.temporal[s] = new Supervised({
        name: `temporal-${s}`,
        command: this.bins.server,
        args: ['--config-file', configFile, '--allow-no-auth', 'start', '--service', s],
        cwd: dataDir,
        stopGraceMs: 15_000,
        logFile: path.join(this.logDir, `temporal-${s}.log`),
        nice: BEHIND_API_NICE,
      });
    }
    try {
      this.connection = await connectFrontend(this.address, 120_000);
      await registerNamespace(this.connection, { ...this.opts, archiveUri: this.archiveUri });
      await this.waitHealthy(120_000);
    } catch (err) {
      // What the services said is the useful part of this failure.
      const said = TEMPORAL_SERVICES.map(
        (s) => `--- temporal-${s}:\n${this.temporal[s].output().slice(-1500)}`,
      );
      throw new Error(`${(err as Error).message}\n${said.join('\n')}`);
    }
    this.log(
      `namespace ${this.opts.namespace} registered (retention ${this.opts.retentionSeconds / 86400} d)`,
    );

    if (this.opts.apiPort) await this.startApi();
    await Promise.all(Array.from({ length: this.opts.workers }, () => this.startWorker()));
  }

  /** The environment of the product's processes. */
  appEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...this.opts.appEnv,
      ...extra,
      // Last: the cluster's own, whatever the caller's environment says.
      HOST: '127.0.0.1',
      DATABASE_URL: this.databaseUrl,
      TEMPORAL_ADDRESS: this.address,
      TEMPORAL_NAMESPACE: this.opts.namespace,
    };
  }

  private nodeProcess(
    name: string,
    spec: ProcessSpec,
    env: Record<string, string | undefined> = {},
    nice?: number,
  ) {
    if (this.stopped) throw new Error('the cluster is stopping');
    return new Supervised({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', spec.entry, ...(spec.args ?? [])],
      cwd: ROOT,
      env: this.appEnv({ ...spec.env, ...env }),
      // The worker's drain (SHUTDOWN_GRACE_SECONDS, default 10) and then some.
      stopGraceMs: 30_000,
      logFile: path.join(this.logDir, `${name}.log`),
      nice,
    });
  }

  async startApi(): Promise<void> {
    this.api = this.nodeProcess('api', { entry: 'src/api/main.ts' }, { PORT: String(this.opts.apiPort) });
    this.apiUrl = `http://127.0.0.1:${this.opts.apiPort}`;
    await this.waitForApi(120_000);
  }

  async waitForApi(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await fetch(`${this.apiUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`the API did not answer: ${this.api?.output().slice(-2000)}`);
      await sleep(200);
    }
  }

  /** Starts one more worker process (or `spec`, e.g. a new build) and waits until it polls. */
  async startWorker(
    spec: ProcessSpec = this.opts.worker ?? { entry: 'src/worker/main.ts' },
  ): Promise<Supervised> {
    // Numbered by start, not by count: a deploy's replacements never share a name with a live one.
    const w = this.nodeProcess(`worker-${++this.workersStarted}`, spec, {}, BEHIND_API_NICE);
    this.workers.push(w);
    await this.waitForPoller(w, 180_000);
    return w;
  }

  /** A worker polls once the task queue lists its identity (the SDK's default `pid@host`). */
  async waitForPoller(w: Supervised, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const taskQueue = this.opts.appEnv.TEMPORAL_TASK_QUEUE ?? 'crm-automation';
    for (;;) {
      const identity = `${w.pid}@${os.hostname()}`;
      const r = await this.conn.workflowService
        .describeTaskQueue({
          namespace: this.opts.namespace,
          taskQueue: { name: taskQueue },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        })
        .catch(() => null);
      if (r?.pollers?.some((p) => p.identity === identity)) return;
      if (Date.now() > deadline) throw new Error(`${w.spec.name} did not poll: ${w.output().slice(-2000)}`);
      await sleep(250);
    }
  }

  async waitForPostgres(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const client = new PgClient({
        connectionString: `postgres://postgres:postgres@127.0.0.1:${this.opts.postgresPort}/postgres`,
        connectionTimeoutMillis: 1000,
      });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch (err) {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline)
          throw new Error(
            `PostgreSQL did not start: ${(err as Error).message}\n${this.postgres.output().slice(-2000)}`,
          );
        await sleep(200);
      }
    }
  }

  /**
   * Until the frontend, history and matching all answer for the namespace: describing a run that does
   * not exist answers NOT_FOUND only once history does; describing the task queue needs matching.
   */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.conn.workflowService
          .describeWorkflowExecution({
            namespace: this.opts.namespace,
            execution: { workflowId: 'health-probe' },
          })
          .catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
        await this.conn.workflowService.describeTaskQueue({
          namespace: this.opts.namespace,
          taskQueue: { name: 'health-probe' },
        });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the cluster is not healthy: ${(err as Error).message}`);
        await sleep(200);
      }
    }
  }

  /** Stops everything in order: API, workers (they drain), Temporal, PostgreSQL. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.api?.stop();
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.connection?.close().catch(() => undefined);
    await Promise.all(Object.values(this.temporal).map((s) => s.stop()));
    await this.postgres?.stop();
  }
}
