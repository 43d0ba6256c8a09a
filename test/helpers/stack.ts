/**
 * The real stack for end-to-end tests: the run's PostgreSQL and Temporal server, plus a worker and the
 * API started in this test file's process on a task queue of its own.
 */
import { NativeConnection, DefaultLogger, type Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { loadConfig, type Config } from '../../src/config';
import { openDatabase } from '../../src/db/data-source';
import { createLogger } from '../../src/logger';
import { startApi } from '../../src/api/server';
import { createWorker, installRuntime } from '../../src/worker/worker';
import { newId } from '../../src/shared/ids';

let runtimeInstalled = false;

export interface Stack {
  url: string;
  db: DataSource;
  config: Config;
  temporal: Client;
  /** Absent with `{ worker: false }`. */
  worker?: Worker;
  adminToken: string;
  /** Creates an account through the API and returns a client bound to its key. */
  account(name?: string): Promise<AccountClient>;
  anonymous: HttpClient;
  stop(): Promise<void>;
}

export interface HttpResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class HttpClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse<T>> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(this.token && { Authorization: `Bearer ${this.token}` }),
        ...(body !== undefined && { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get = <T = any>(path: string) => this.request<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.request<T>('POST', path, body ?? {});
  put = <T = any>(path: string, body: unknown) => this.request<T>('PUT', path, body);
  patch = <T = any>(path: string, body: unknown) => this.request<T>('PATCH', path, body);
  delete = <T = any>(path: string) => this.request<T>('DELETE', path);
}

export class AccountClient extends HttpClient {
  constructor(
    baseUrl: string,
    readonly id: string,
    readonly apiKey: string,
    readonly webhookSecret: string,
  ) {
    super(baseUrl, apiKey);
  }
}

export async function startStack(
  env: Record<string, string> = {},
  opts: { worker?: boolean } = {},
): Promise<Stack> {
  const adminToken = `admin-${newId('t', 20)}`;
  const config = loadConfig({
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: `test-${newId('q', 10)}`,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'silent',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    PAYLOAD_ENCRYPTION_KEYS: process.env.TEST_PAYLOAD_ENCRYPTION_KEYS,
    ...env,
  });
  if (!runtimeInstalled) {
    installRuntime(config, new DefaultLogger('ERROR'));
    runtimeInstalled = true;
  }
  const db = await openDatabase(config.DATABASE_URL!);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS! });
  // Without the in-process worker, a test runs `npm run worker` processes of its own on this queue.
  const inProcess =
    opts.worker === false
      ? null
      : await createWorker({
          config,
          db,
          connection,
          workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
        });
  const running = inProcess ? inProcess.worker.run() : Promise.resolve();
  // As under `npm start`: with the worker in this process, the API shares its connection (eager starts).
  const api = await startApi({
    config,
    db,
    log: createLogger('silent', 'test'),
    port: 0,
    workerConnection: inProcess ? connection : undefined,
  });
  const anonymous = new HttpClient(api.url);
  return {
    url: api.url,
    db,
    config,
    temporal: api.temporal,
    worker: inProcess?.worker,
    adminToken,
    anonymous,
    async account(name = 'Test account') {
      const res = await new HttpClient(api.url, adminToken).post('/accounts', { name });
      if (res.status !== 201)
        throw new Error(`account create failed: ${res.status} ${JSON.stringify(res.body)}`);
      return new AccountClient(api.url, res.body.id, res.body.apiKey, res.body.webhookSecret);
    },
    async stop() {
      await api.stop();
      if (inProcess?.worker.getState() === 'RUNNING') inProcess.worker.shutdown();
      await running.catch(() => undefined);
      inProcess?.close();
      await connection.close();
      await db.destroy();
    },
  };
}

/** Polls until `check` returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
