/**
 * The whole system on free ports in a temporary data directory, for the benchmark and the drills:
 * embedded PostgreSQL and the Temporal dev server (src/dev/services.ts), the API and the worker as
 * processes of their own (so their CPU and memory are measurable and a drill can SIGKILL them), and a
 * Temporal client in this process for the baseline and for cancelling runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { migrate } from '../../src/cli/main';
import { dataConverterFor, generateEncryptionKeys, parseEncryptionKeys } from '../../src/codec';
import { openDatabase } from '../../src/db/data-source';
import { startPostgres, startTemporalDevServer, type TemporalService } from '../../src/dev/services';
import { RuleService } from '../../src/services/rules';
import { workflowBundleOptions } from '../../src/worker/bundle';
import { ruleBodySchema } from '../../src/shared/schemas';
import { comm, cpuMs, ROOT, spawnTs, tree, type Managed } from './procs';
import { freePort, http, log, waitFor } from './util';

export interface Account {
  id: string;
  apiKey: string;
  webhookSecret: string;
}

const quietLogger = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };

/** The product's bundle is built as src/worker/bundle.ts builds it (workflow interceptors included). */
export async function bundle(which: 'product' | 'baseline', file: string): Promise<string> {
  const options =
    which === 'baseline'
      ? { workflowsPath: path.join(ROOT, 'bench/baseline/workflows.ts') }
      : workflowBundleOptions();
  const { code } = await bundleWorkflowCode({
    ...options,
    logger: quietLogger,
  });
  writeFileSync(file, code);
  return file;
}

export interface StackOptions {
  /** fsync off in PostgreSQL (the tests do this); the benchmark keeps npm start's durable settings. */
  fastPostgres?: boolean;
  apiEnv?: Record<string, string>;
  baseline?: boolean;
  /** e.g. ['--cpu-prof', '--cpu-prof-dir=DIR'] for the API process. */
  apiNodeArgs?: string[];
  /** Payload encryption as under `npm start` (default); false measures the pipeline without it. */
  codec?: boolean;
}

export class BenchStack {
  readonly adminToken = `bench-admin-${Math.random().toString(36).slice(2)}-token`;
  readonly taskQueue = 'crm-automation';
  worker?: Managed;
  api!: Managed;
  apiUrl!: string;
  temporal!: TemporalService;
  temporalPort!: number;
  client!: Client;
  db!: DataSource;
  databaseUrl!: string;
  productBundle!: string;
  baselineBundle?: string;
  /** How rules are created: through POST /rules, or RuleService when the route does not exist yet. */
  rulesVia: 'api' | 'service' = 'api';
  /** PAYLOAD_ENCRYPTION_KEYS of the API and the worker (empty: no codec). */
  readonly encryptionKeys: string;
  private stopPg?: () => Promise<void>;
  private connection?: Connection;

  private constructor(
    readonly dataDir: string,
    readonly opts: StackOptions,
  ) {
    this.encryptionKeys = opts.codec === false ? '' : generateEncryptionKeys();
  }

  static async start(opts: StackOptions = {}): Promise<BenchStack> {
    const s = new BenchStack(mkdtempSync(path.join(os.tmpdir(), 'crm-bench-')), opts);
    try {
      await s.boot();
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  private async boot() {
    const t0 = Date.now();
    const [pgPort, temporalPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    this.temporalPort = temporalPort;
    const bundles = Promise.all([
      bundle('product', path.join(this.dataDir, 'workflows.js')),
      this.opts.baseline
        ? bundle('baseline', path.join(this.dataDir, 'baseline.js'))
        : Promise.resolve(undefined),
    ]);
    const pg = await startPostgres({ dataDir: this.dataDir, port: pgPort, fast: this.opts.fastPostgres });
    this.stopPg = pg.stop;
    this.databaseUrl = pg.url;
    await migrate(pg.url);
    this.db = await openDatabase(pg.url, 4);
    this.temporal = await startTemporalDevServer({
      dataDir: path.join(this.dataDir, 'temporal'),
      port: temporalPort,
      headless: true,
    });
    this.connection = await Connection.connect({ address: this.temporal.address });
    this.client = new Client({
      connection: this.connection,
      dataConverter: dataConverterFor({
        PAYLOAD_ENCRYPTION_KEYS: this.encryptionKeys ? parseEncryptionKeys(this.encryptionKeys) : undefined,
      }),
    });
    [this.productBundle, this.baselineBundle] = await bundles;
    this.api = spawnTs(
      'api',
      'src/api/main.ts',
      {
        PORT: String(apiPort),
        DATABASE_URL: pg.url,
        TEMPORAL_ADDRESS: this.temporal.address,
        ADMIN_TOKEN: this.adminToken,
        // The benchmark measures the pipeline, not the per-account rate limit (6,000 events a minute).
        EVENTS_RATE_LIMIT_PER_MINUTE: '0',
        // Drill 8 fuzzes with wrong keys from 127.0.0.1 and expects 401s, not the throttle's 429.
        AUTH_FAILURES_PER_MINUTE: '0',
        WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        PAYLOAD_ENCRYPTION_KEYS: this.encryptionKeys,
        ...this.opts.apiEnv,
      },
      [],
      this.opts.apiNodeArgs,
    );
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitFor(
      'the API',
      async () => ((await http('GET', `${this.apiUrl}/healthz`)).status === 200 ? true : undefined),
      60_000,
      200,
    );
    log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (data dir ${this.dataDir})`);
  }

  workerEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.databaseUrl,
      TEMPORAL_ADDRESS: this.temporal.address,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'warn',
      PAYLOAD_ENCRYPTION_KEYS: this.encryptionKeys,
      BENCH_WORKFLOW_BUNDLE: this.productBundle,
      ...(this.baselineBundle && { BENCH_BASELINE_BUNDLE: this.baselineBundle }),
      ...extra,
    };
  }

  /** Starts a worker process and waits until it polls. */
  async startWorker(
    mode: 'product' | 'baseline' = 'product',
    opts: {
      options?: Partial<WorkerOptions>;
      env?: Record<string, string>;
      taskQueue?: string;
      nodeArgs?: string[];
    } = {},
  ): Promise<Managed> {
    const env = this.workerEnv({
      ...(opts.options && { BENCH_WORKER_OPTIONS: JSON.stringify(opts.options) }),
      ...(opts.taskQueue && { TEMPORAL_TASK_QUEUE: opts.taskQueue }),
      ...opts.env,
    });
    const w = spawnTs(`worker(${mode})`, 'bench/lib/worker-main.ts', env, [mode], opts.nodeArgs);
    await w.waitForOutput(/worker ready/, 120_000);
    this.worker = w;
    return w;
  }

  async stopWorker(): Promise<void> {
    await this.worker?.stop();
    this.worker = undefined;
  }

  async createAccount(name = 'Bench account'): Promise<Account> {
    const r = await http('POST', `${this.apiUrl}/accounts`, { token: this.adminToken, body: { name } });
    if (r.status !== 201) throw new Error(`POST /accounts: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Account;
  }

  /** POST /rules, or RuleService.create (after the same validation) while the route does not exist. */
  async createRule(account: Account, body: unknown): Promise<{ id: string }> {
    if (this.rulesVia === 'api') {
      const r = await http('POST', `${this.apiUrl}/rules`, { token: account.apiKey, body });
      if (r.status === 201) return r.body as { id: string };
      if (r.status !== 404 || r.body?.error?.code !== 'not_found') {
        throw new Error(`POST /rules: ${r.status} ${JSON.stringify(r.body)}`);
      }
      log('POST /rules is not there yet: creating rules with RuleService');
      this.rulesVia = 'service';
    }
    return new RuleService(this.db).create(account.id, ruleBodySchema.parse(body));
  }

  /** SIGKILLs the Temporal dev server (drill 2). */
  killTemporal(): void {
    this.temporal.process.kill('SIGKILL');
  }

  /** Starts the dev server again on the same files and port. */
  async restartTemporal(): Promise<void> {
    this.temporal = await startTemporalDevServer({
      dataDir: path.join(this.dataDir, 'temporal'),
      port: this.temporalPort,
      headless: true,
    });
  }

  /** Top-level pids of each component, for CPU accounting. */
  components(): Record<string, number[]> {
    const mine = tree(process.pid);
    const pg = mine.filter((p) => comm(p) === 'postgres');
    return {
      temporal: tree(this.temporal.process.pid!),
      postgres: pg,
      worker: this.worker ? tree(this.worker.pid) : [],
      api: tree(this.api.pid),
    };
  }

  /** CPU ms per component since the returned function's creation. */
  cpuMeter(): () => Record<string, number> {
    const startPids = this.components();
    const start = Object.fromEntries(Object.entries(startPids).map(([k, v]) => [k, cpuMs(v)]));
    const self0 = process.cpuUsage();
    return () => {
      const nowPids = this.components();
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(nowPids)) out[k] = Math.max(0, cpuMs(v) - (start[k] ?? 0));
      const self = process.cpuUsage(self0);
      out.loadgen = (self.user + self.system) / 1000;
      return out;
    };
  }

  async stop(): Promise<void> {
    await this.worker?.stop().catch(() => undefined);
    await this.api?.stop().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    await this.db?.destroy().catch(() => undefined);
    await this.temporal?.stop().catch(() => undefined);
    await this.stopPg?.().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
