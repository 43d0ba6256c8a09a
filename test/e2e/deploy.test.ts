/**
 * The production deployment (docker-compose.yml, Dockerfile, .dockerignore) without a Docker engine:
 *
 * - the compose file is parsed and checked: services, images, depends_on, healthchecks, env (the app's
 *   env is interpolated the way Compose does and must pass our own config validation);
 * - `docker compose config` / `docker-compose config` validates it too when the binary exists (set
 *   REQUIRE_COMPOSE_CLI=1 to make its absence a failure);
 * - what the image does is then done for real on this run's PostgreSQL and Temporal server: the build
 *   stage's compile and workflow bundle, the `setup` service's exact command (a fresh namespace gets the
 *   search attributes, a fresh database the migrations), then the compiled worker and API entrypoints
 *   process an event end to end and stop cleanly on SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import YAML from 'yaml';
import { loadConfig } from '../../src/config';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/shared/constants';
import { METRICS } from '../../src/worker/interceptors';
import { freePort } from '../helpers/ports';
import { spawnNode, type Proc } from '../helpers/process';
import { eventually, HttpClient } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

type Env = Record<string, string | undefined>;
interface Service {
  image?: string;
  build?: string | { context?: string; target?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  restart?: string;
  stop_grace_period?: string;
  init?: boolean;
  cpu_shares?: number;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;

/** Compose's variable interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(text: string, env: Env): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?)([^}]*))?\}/g,
    (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (match === '$$') return '$';
      const v = env[name!];
      switch (op) {
        case ':-':
          return v ? v : arg!;
        case '-':
          return v ?? arg!;
        case ':?':
        case '?':
          if (op === ':?' ? !v : v === undefined) throw new Error(`${name}: ${arg}`);
          return v!;
        default:
          return v ?? '';
      }
    },
  );
}

function environmentOf(name: string, env: Env = {}): Record<string, string> {
  const raw = services[name].environment ?? {};
  const pairs: [string, string][] = Array.isArray(raw)
    ? raw.map((line) => {
        const i = line.indexOf('=');
        return [line.slice(0, i), line.slice(i + 1)];
      })
    : Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(pairs.map(([k, v]) => [k, interpolate(v, env)]));
}

const dependsOn = (s: Service): Record<string, string> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']))
    : Object.fromEntries(
        Object.entries(s.depends_on ?? {}).map(([d, v]) => [d, v.condition ?? 'service_started']),
      );

const commandText = (s: Service) => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));
const imageTag = (image: string) => /:([^/:]+)$/.exec(image)?.[1];
const seconds = (d: string) => {
  const m = /^(\d+)(ms|s|m)$/.exec(d);
  if (!m) throw new Error(`unreadable duration ${d}`);
  return Number(m[1]) / (m[2] === 'ms' ? 1000 : m[2] === 'm' ? 1 / 60 : 1);
};

const ADMIN_TOKEN = 'compose-admin-token-0123456789';

describe('docker-compose.yml', () => {
  const APP_SERVICES = ['api', 'worker'];

  test('runs PostgreSQL, Temporal (server, schema step, UI, admin tools), Mailpit, setup, api and worker', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'postgresql',
        'temporal-schema',
        'temporal',
        'temporal-ui',
        'temporal-admin-tools',
        'mailpit',
        'setup',
        'api',
        'worker',
        'prometheus',
        'grafana',
      ].sort(),
    );
    const images: Record<string, RegExp> = {
      postgresql: /^postgres:/,
      'temporal-schema': /^temporalio\/admin-tools:/,
      temporal: /^temporalio\/server:/,
      'temporal-ui': /^temporalio\/ui:/,
      'temporal-admin-tools': /^temporalio\/admin-tools:/,
      mailpit: /^axllent\/mailpit:/,
      prometheus: /^prom\/prometheus:/,
      grafana: /^grafana\/grafana:/,
    };
    for (const [name, pattern] of Object.entries(images)) {
      const image = interpolate(services[name].image!, {});
      expect(image).toMatch(pattern);
      // Pinned: a tag, and never `latest`.
      expect(imageTag(image)).toMatch(/^v?\d+(\.\d+)*(-[a-z0-9.]+)?$/);
    }
    // The schema step and the CLI container use the server's own version.
    expect(interpolate(services['temporal-schema'].image!, {}).split(':')[1]).toBe(
      interpolate(services.temporal.image!, {}).split(':')[1],
    );
    expect(compose.volumes).toHaveProperty('postgres-data');
    // Short of CPU, the API is served first (compose's default weight is 1024).
    for (const [name, s] of Object.entries(services)) {
      if (name !== 'api') expect(s.cpu_shares ?? 1024).toBeLessThan(services.api.cpu_shares!);
    }
  });

  test('the Temporal server persists to the PostgreSQL service, once its schemas are set up', () => {
    const env = environmentOf('temporal');
    expect(env).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql', DB_PORT: '5432' });
    expect(env.POSTGRES_USER).toBe(environmentOf('postgresql').POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(environmentOf('postgresql').POSTGRES_PASSWORD);
    expect(dependsOn(services.temporal)).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    expect(dependsOn(services['temporal-schema'])).toEqual({ postgresql: 'service_healthy' });
    // The schema step runs the script `npm run start:cluster` runs too (test/e2e/cluster.test.ts runs it).
    expect(services['temporal-schema'].volumes).toContain(
      './scripts/temporal-schema.sh:/temporal-schema.sh:ro',
    );
    expect(services['temporal-schema'].entrypoint).toEqual(['/bin/sh', '/temporal-schema.sh']);
    const schema = read('scripts/temporal-schema.sh');
    for (const db of ['temporal', 'temporal_visibility']) {
      expect(schema).toContain(`--db ${db} setup-schema -v 0.0`);
      expect(schema).toMatch(new RegExp(`--db ${db} update-schema -d "\\$SCHEMA/`));
    }
    // Its defaults are the admin-tools image's paths, its variables compose's.
    expect(schema).toContain('${SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12');
    expect(environmentOf('temporal-schema')).toMatchObject({ POSTGRES_SEEDS: 'postgresql', DB_PORT: '5432' });
    expect(commandText(services.temporal)).toContain('exec /etc/temporal/entrypoint.sh');
    expect(environmentOf('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(environmentOf('temporal-admin-tools').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  test('api and worker are built from ./Dockerfile and run the compiled entrypoints', () => {
    expect(services.api.command).toEqual(['node', 'dist/src/api/main.js']);
    expect(services.worker.command).toEqual(['node', 'dist/src/worker/main.js']);
    for (const name of [...APP_SERVICES, 'setup']) {
      const build = services[name].build;
      expect(typeof build === 'object' ? build.context : build).toBe('.');
      expect(typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile').toBe(
        'Dockerfile',
      );
    }
    expect(services.setup.build).toMatchObject({ target: 'setup' });
    // Both long-running services share one image.
    expect(services.api.image).toBe(services.worker.image);
  });

  test('the app env is wired to the compose services and passes the product’s config validation', () => {
    const env = { ADMIN_TOKEN };
    for (const name of [...APP_SERVICES, 'setup']) {
      const e = environmentOf(name, env);
      const url = new URL(e.DATABASE_URL);
      expect(url.hostname).toBe('postgresql');
      expect(url.pathname).toBe(`/${environmentOf('postgresql').POSTGRES_DB}`);
      expect(decodeURIComponent(url.password)).toBe(environmentOf('postgresql').POSTGRES_PASSWORD);
      expect(e).toMatchObject({
        TEMPORAL_ADDRESS: 'temporal:7233',
        SMTP_URL: 'smtp://mailpit:1025',
        HOST: '0.0.0.0',
      });
      // Every value is one our own validation accepts (a typo'd name would be ignored, so compare too).
      const config = loadConfig(e);
      expect(config.DATABASE_URL).toBe(e.DATABASE_URL);
      expect(config.SMTP_URL).toBe('smtp://mailpit:1025');
      expect(config.twilio).toBeUndefined();
    }
    const api = loadConfig(environmentOf('api', env));
    expect(api).toMatchObject({ ADMIN_TOKEN, PORT: 3000, HOST: '0.0.0.0' });
    expect(services.api.ports).toEqual(['${API_PORT:-3000}:3000']);
    const worker = loadConfig(environmentOf('worker', env));
    expect(worker.WORKER_METRICS_PORT).toBe(9464);
    // Scalable: the worker publishes no host port.
    expect(services.worker.ports).toBeUndefined();
    expect(services.worker.expose).toEqual(['9464']);
  });

  test('ADMIN_TOKEN comes from the environment and is required', () => {
    expect(services.api.environment).toHaveProperty('ADMIN_TOKEN');
    expect(environmentOf('api', { ADMIN_TOKEN }).ADMIN_TOKEN).toBe(ADMIN_TOKEN);
    expect(() => environmentOf('api', {})).toThrow(/ADMIN_TOKEN/);
  });

  test('setup registers the search attributes on the namespace, then migrates', () => {
    const setup = services.setup;
    const script = commandText(setup);
    for (const name of SEARCH_ATTRIBUTE_NAMES) expect(script).toContain(`--name ${name} --type Keyword`);
    expect(SEARCH_ATTRIBUTE_NAMES).toHaveLength(6);
    expect(script).toContain('temporal operator search-attribute create --namespace');
    expect(script.trim().split('\n').pop()).toBe('node dist/src/cli/main.js migrate');
    expect(setup.restart).toBe('no');
    expect(dependsOn(setup)).toEqual({ postgresql: 'service_healthy', temporal: 'service_healthy' });
  });

  test('start order, healthchecks and stop grace periods', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(s))) {
        expect(Object.keys(services)).toContain(dep);
        if (condition === 'service_healthy') expect(services[dep].healthcheck?.test).toBeDefined();
        if (condition === 'service_completed_successfully')
          expect(services[dep].restart).not.toMatch(/always|unless/);
      }
      // Every long-running service the others wait on, and the product's own, reports its health.
      if (['postgresql', 'temporal', 'mailpit', 'api', 'worker'].includes(name))
        expect({ name, healthcheck: s.healthcheck?.test }).toEqual({ name, healthcheck: expect.anything() });
    }
    for (const name of APP_SERVICES) {
      expect(dependsOn(services[name])).toMatchObject({
        setup: 'service_completed_successfully',
        temporal: 'service_healthy',
      });
      expect(services[name].init).toBe(true);
      const grace = Number(environmentOf(name, { ADMIN_TOKEN }).SHUTDOWN_GRACE_SECONDS);
      expect(seconds(services[name].stop_grace_period!)).toBeGreaterThan(grace);
    }
    expect(dependsOn(services.worker)).toMatchObject({ mailpit: 'service_healthy' });
    expect(JSON.stringify(services.worker.healthcheck?.test)).toContain('127.0.0.1:9464/metrics');
    expect(JSON.stringify(services.api.healthcheck?.test)).toContain('127.0.0.1:3000/readyz');
  });

  test('prometheus scrapes api and worker with deploy/prometheus (alerts included); grafana provisions deploy/grafana', () => {
    /** `./host/dir:/container/dir[:ro]` → container dir → repository dir, each mounted one existing. */
    const mounts = (name: string) =>
      Object.fromEntries(
        (services[name].volumes ?? [])
          .filter((v) => v.startsWith('./'))
          .map((v) => {
            const [host, container] = v.split(':');
            expect(existsSync(path.join(ROOT, host))).toBe(true);
            return [container, host];
          }),
      );
    const prom = mounts('prometheus');
    expect(prom['/etc/prometheus']).toBe('./deploy/prometheus');
    expect(services.prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const config = YAML.parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: any[];
      }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name)!;
    // The API's port and every worker replica's WORKER_METRICS_PORT, as compose sets them.
    expect(job('crm-api').static_configs![0].targets).toEqual([
      `api:${environmentOf('api', { ADMIN_TOKEN }).PORT}`,
    ]);
    expect(job('crm-worker').dns_sd_configs![0]).toEqual({
      names: ['worker'],
      type: 'A',
      port: Number(environmentOf('worker').WORKER_METRICS_PORT),
    });

    const grafana = mounts('grafana');
    expect(grafana['/etc/grafana/provisioning']).toBe('./deploy/grafana/provisioning');
    const provider = YAML.parse(read('deploy/grafana/provisioning/dashboards/crm.yml')).providers[0];
    expect(grafana[provider.options.path]).toBe('./deploy/grafana/dashboards');
    const home = environmentOf('grafana').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(existsSync(path.join(ROOT, grafana[path.dirname(home)], path.basename(home)))).toBe(true);
    expect(dependsOn(services.grafana)).toEqual({ prometheus: 'service_healthy' });
    expect(compose.volumes).toHaveProperty('prometheus-data');
    expect(compose.volumes).toHaveProperty('grafana-data');
  });

  test('every compose service that the README and docs/deploying.md name exists', () => {
    const docs = ['README.md', 'docs/deploying.md'].filter((f) => existsSync(path.join(ROOT, f)));
    expect(docs).toContain('docs/deploying.md');
    const named = new Set<string>();
    for (const file of docs) {
      const text = read(file);
      for (const m of text.matchAll(
        /docker[ -]compose (?:exec|logs|run --rm|run|restart|stop|start|up -d|up)(?: -T)? ([a-z][a-z0-9-]+)/g,
      )) {
        named.add(m[1]);
      }
      for (const m of text.matchAll(/--scale ([a-z][a-z0-9-]+)=/g)) named.add(m[1]);
    }
    expect(named.size).toBeGreaterThan(0);
    for (const name of named) expect(Object.keys(services)).toContain(name);
  });

  test('the Compose CLI accepts the file (`config`), and refuses it without ADMIN_TOKEN', () => {
    const candidates: [string, string[]][] = [
      ['docker', ['compose']],
      ['docker-compose', []],
    ];
    const cli = candidates.find(
      ([bin, pre]) => spawnSync(bin, [...pre, 'version'], { encoding: 'utf8' }).status === 0,
    );
    if (!cli) {
      if (process.env.REQUIRE_COMPOSE_CLI === '1') {
        throw new Error(
          'REQUIRE_COMPOSE_CLI=1 but neither `docker compose` nor `docker-compose` is installed ' +
            '(Debian: apt-get install -y docker-compose)',
        );
      }
      console.warn(
        'docker-compose.yml: no Compose CLI here, so `config` was not run; the parsed-file checks above ' +
          'still hold. Install docker-compose (or set REQUIRE_COMPOSE_CLI=1 to require it).',
      );
      return;
    }
    const [bin, pre] = cli;
    const run = (env: Env) =>
      spawnSync(bin, [...pre, '-f', 'docker-compose.yml', 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      });
    const ok = run({ ADMIN_TOKEN });
    expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const refused = run({});
    expect(refused.status).not.toBe(0);
    expect(refused.stderr + refused.stdout).toContain('ADMIN_TOKEN');
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { name: string; from: string; lines: string[] }[] = [];
  for (const line of dockerfile) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ from: from[1], name: from[2] ?? `#${stages.length}`, lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const stage = (name: string) => {
    const s = stages.find((x) => x.name === name);
    if (!s)
      throw new Error(`no stage ${name} in Dockerfile (stages: ${stages.map((x) => x.name).join(', ')})`);
    return s;
  };
  const text = (name: string) => stage(name).lines.join('\n');

  test('is multi-stage: build compiles and bundles, runtime has production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(text('build')).toMatch(/RUN npm ci\b/);
    expect(text('build')).toContain('npx tsc -p tsconfig.json');
    expect(text('build')).toContain('node dist/src/worker/bundle.js');
    expect(text('prod-deps')).toMatch(/RUN npm ci --omit=dev\b/);
    const runtime = text('runtime-base');
    expect(runtime).toContain('COPY --from=prod-deps /app/node_modules ./node_modules');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime).not.toMatch(/--from=build \/app\/node_modules/);
    expect(runtime).not.toMatch(/RUN npm (ci|install)/);
  });

  test('runs as a non-root user; the default target is the API, the setup target adds the temporal CLI', () => {
    const user = /^USER\s+(\S+)/m.exec(text('runtime-base'))?.[1];
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    const last = stages.at(-1)!;
    expect(last.name).toBe('runtime');
    expect(last.lines).toContain('CMD ["node", "dist/src/api/main.js"]');
    expect(text('setup')).toMatch(
      /COPY --from=temporal-cli \/usr\/local\/bin\/temporal \/usr\/local\/bin\/temporal/,
    );
    // Only stages that exist are copied from.
    for (const s of stages)
      for (const l of s.lines) {
        const from = /--from=(\S+)/.exec(l)?.[1];
        if (from) expect(stages.map((x) => x.name)).toContain(from);
      }
  });

  test('.dockerignore lets in exactly what the build copies', () => {
    const rules = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(rules[0]).toBe('**');
    const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/\*\*$/, ''));
    const copied = dockerfile
      .filter((l) => /^COPY\s/.test(l) && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect([...new Set(copied)].sort()).toEqual([...allowed].sort());
    for (const p of ['node_modules', '.data', '.tools', 'test', 'dist']) expect(allowed).not.toContain(p);
  });
});

// ---------------------------------------------------------------------------------------------------
// The image's steps, for real, on this run's servers.

function start(args: string[], cwd: string, env: Env): Proc {
  return spawnNode(args, cwd, env as NodeJS.ProcessEnv);
}

async function waitForLog(p: Proc, msg: string, ms = 60_000) {
  return eventually(
    () => {
      if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}:\n${p.output()}`);
      return p.lines.find((l) => l.msg === msg);
    },
    ms,
    `log line "${msg}"`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- output ---\n${p.output().slice(-4000)}`);
  });
}

async function stopWith(p: Proc, signal: NodeJS.Signals): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode;
  p.child.kill(signal);
  return p.exited;
}

describe('the image, without Docker: build steps, setup and the compiled entrypoints', () => {
  const id = randomBytes(4).toString('hex');
  const app = path.join(ROOT, 'dist', `.e2e-deploy-${id}`); // plays /app
  const database = `deploy_${id}`;
  const namespace = `deploy-${id}`;
  const procs: Proc[] = [];
  let databaseUrl: string;
  let admin: PgClient;

  beforeAll(async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    admin = new PgClient({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(app, { recursive: true, force: true });
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin?.end();
  });

  test('build stage: tsc compiles src/ and migrations/, and the workflow bundle carries the interceptors', () => {
    mkdirSync(app, { recursive: true });
    // What .dockerignore lets into the build context: src/ and migrations/ (no tests, no benchmark).
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        extends: path.join(ROOT, 'tsconfig.json'),
        include: [path.join(ROOT, 'src'), path.join(ROOT, 'migrations')],
        compilerOptions: { rootDir: ROOT, outDir: path.join(app, 'dist') },
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', path.join(app, 'tsconfig.json')],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect({ status: tsc.status, output: tsc.stdout + tsc.stderr }).toEqual({ status: 0, output: '' });
    for (const f of ['dist/src/api/main.js', 'dist/src/worker/main.js', 'dist/src/cli/main.js'])
      expect(existsSync(path.join(app, f))).toBe(true);

    const bundle = spawnSync(process.execPath, ['dist/src/worker/bundle.js'], { cwd: app, encoding: 'utf8' });
    expect({ status: bundle.status, stderr: bundle.stderr }).toEqual({ status: 0, stderr: '' });
    const code = readFileSync(path.join(app, 'dist/workflow-bundle.js'), 'utf8');
    expect(code).toContain('ruleRunWorkflow');
    expect(code).toContain(METRICS.ruleRuns);
  }, 180_000);

  test('setup: the compose command registers the search attributes on a new namespace and migrates', async () => {
    expect(existsSync(path.join(app, 'dist/src/cli/main.js'))).toBe(true);
    const script = interpolate(commandText(services.setup), {});
    const env = {
      PATH: `${path.dirname(process.env.TEMPORAL_CLI_PATH!)}:${process.env.PATH}`,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: namespace,
      DATABASE_URL: databaseUrl,
    };
    // Twice: it must be safe on every `up`, and a changed TEMPORAL_RETENTION reaches the namespace.
    for (const [i, days] of [1, 3].entries()) {
      const run = spawnSync('sh', ['-c', script], {
        cwd: app,
        env: { ...env, TEMPORAL_RETENTION: `${days}d` },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect({ run: i, status: run.status, output: run.stdout + run.stderr }).toEqual({
        run: i,
        status: 0,
        output: expect.stringMatching(i === 0 ? /applied: / : /database is up to date/),
      });
      const described = spawnSync(
        process.env.TEMPORAL_CLI_PATH!,
        ['operator', 'namespace', 'describe', '--namespace', namespace, '-o', 'json'],
        { env: { ...env, PATH: process.env.PATH }, encoding: 'utf8' },
      );
      expect(JSON.parse(described.stdout).config.workflowExecutionRetentionTtl).toBe(`${days * 86400}s`);
    }
    // As an operator would check it.
    const listed = spawnSync(
      process.env.TEMPORAL_CLI_PATH!,
      ['operator', 'search-attribute', 'list', '--namespace', namespace, '-o', 'json'],
      { env: { ...env, PATH: process.env.PATH }, encoding: 'utf8' },
    );
    expect(listed.status).toBe(0);
    const custom = JSON.parse(listed.stdout).customAttributes as Record<string, string>;
    for (const name of SEARCH_ATTRIBUTE_NAMES) expect(custom[name]).toBe('INDEXED_VALUE_TYPE_KEYWORD');
    const pg = new PgClient({ connectionString: databaseUrl });
    await pg.connect();
    const tables = await pg.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    await pg.end();
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['accounts', 'rules']));
  }, 150_000);

  test('node dist/src/worker/main.js (prebuilt bundle) and node dist/src/api/main.js run an event, export metrics and exit 0 on SIGTERM', async () => {
    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    const env: Env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TASK_QUEUE: `deploy-${id}`,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      SHUTDOWN_GRACE_SECONDS: '5',
    };
    const worker = start(['dist/src/worker/main.js'], app, {
      ...env,
      WORKER_METRICS_PORT: String(metricsPort),
    });
    procs.push(worker);
    const api = start(['dist/src/api/main.js'], app, { ...env, PORT: String(apiPort), ADMIN_TOKEN });
    procs.push(api);
    const started = await waitForLog(worker, 'worker started');
    expect(started.workflowCode).toBe(path.join(app, 'dist/workflow-bundle.js'));
    await waitForLog(api, 'api listening');

    const base = `http://127.0.0.1:${apiPort}`;
    const created = await new HttpClient(base, ADMIN_TOKEN).post('/accounts', { name: 'Deploy check' });
    expect(created.status).toBe(201);
    const acct = new HttpClient(base, created.body.apiKey);
    const rule = await acct.post('/rules', {
      name: 'Tell the tech',
      trigger: { eventName: 'job.completed' },
      delay: { value: 0, unit: 'seconds' },
      actions: [
        { type: 'sms', params: { recipient: '+15555550123', message: 'Job {{job.number}} is done' } },
      ],
    });
    expect(rule.status).toBe(201);
    const event = await acct.post('/events', {
      id: `ev-${id}`,
      name: 'job.completed',
      payload: { job: { number: 'J-7' } },
    });
    expect(event.status).toBe(202);

    const outbox = await eventually(
      async () => {
        const res = await acct.get('/outbox');
        return res.body.items?.length ? res.body.items : undefined;
      },
      30_000,
      'the SMS in the outbox',
    );
    expect(outbox).toEqual([
      expect.objectContaining({ channel: 'sms', body: 'Job J-7 is done', ruleId: rule.body.id }),
    ]);

    // The run carries the search attributes that setup registered on this namespace.
    const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
    try {
      const client = new Client({ connection, namespace });
      const runs = await eventually(
        async () => {
          const found: string[] = [];
          for await (const wf of client.workflow.list({ query: `RuleId = '${rule.body.id}'` }))
            found.push(wf.workflowId);
          return found.length ? found : undefined;
        },
        15_000,
        'the run in visibility',
      );
      expect(runs).toEqual([`run-${rule.body.id}-ev-${id}`]);
    } finally {
      await connection.close();
    }

    const metrics = await eventually(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return text.includes(`${METRICS.ruleRuns}{`) ? text : undefined;
      },
      15_000,
      'worker metrics',
    );
    expect(metrics).toMatch(/^temporal_workflow_completed\{/m);
    expect(metrics).toMatch(new RegExp(`^${METRICS.ruleRuns}\\{[^}]*outcome="sent"[^}]*\\} 1$`, 'm'));
    expect(metrics).toMatch(
      new RegExp(`^${METRICS.deliveries}\\{(?=[^}]*channel="sms")(?=[^}]*outcome="outbox")[^}]*\\} 1$`, 'm'),
    );
    expect(metrics).toMatch(new RegExp(`^${METRICS.deliveryAttempts}\\{[^}]*channel="sms"[^}]*\\} 1$`, 'm'));

    expect(await stopWith(api, 'SIGTERM')).toBe(0);
    expect(await stopWith(worker, 'SIGTERM')).toBe(0);
    expect(api.lines.map((l) => l.msg)).toContain('api stopped');
    expect(worker.lines.map((l) => l.msg)).toContain('worker stopped');
    // JSON lines only.
    expect([...api.lines, ...worker.lines].filter((l) => 'notJson' in l)).toEqual([]);
  }, 120_000);
});
