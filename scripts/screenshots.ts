/**
 * `npm run screenshots`: the README's pictures of the management UI, regenerated rather than drawn by
 * hand. Starts `npm start` on a temporary data dir and free ports, seeds a few rules and runs through
 * the API, and captures pages with playwright-core + Debian Chromium into docs/img/ui-*.png.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, signIn } from '../test/helpers/browser';
import { freePort } from '../test/helpers/ports';
import { startReceiver } from '../test/helpers/receiver';
import { eventually, HttpClient, type HttpResponse } from '../test/helpers/stack';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'docs', 'img');

async function startProduct(dataDir: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/dev/start.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(
    () =>
      out.includes('Press Ctrl-C')
        ? true
        : child.exitCode !== null
          ? Promise.reject(new Error(out))
          : undefined,
    180_000,
    'npm start',
  );
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
  return { url: /API\s+(http:\/\/\S+)/.exec(out)![1], apiKey: /API key: (\S+)/.exec(out)![1], stop };
}

async function seed(api: HttpClient, hook: string) {
  const must = async (p: Promise<HttpResponse<{ id: string }>>) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`seeding failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await must(
    api.post('/users', {
      externalId: 'tech-7',
      name: 'Ana Lima',
      phone: '+15125550123',
      email: 'ana@example.com',
    }),
  );
  const done = await must(
    api.post('/rules', {
      name: 'Thank the client when a job is done',
      trigger: { eventName: 'job.status.changed' },
      delay: { value: 0, unit: 'seconds' },
      conditions: {
        all: [
          { fact: 'job', path: '$.status', operator: 'equal', value: 'Done' },
          { fact: 'job', path: '$.total', operator: 'greaterThan', value: 100 },
        ],
      },
      actions: [
        {
          type: 'email',
          params: {
            recipient: { source: 'user', field: 'email' },
            subject: 'Job #{{job.number}} is done',
            text: 'Hi {{job.client.name}}, {{user.name}} finished job #{{job.number}}.',
          },
        },
        { type: 'webhook', params: { url: hook, payload: { job: '{{job.number}}' } } },
      ],
    }),
  );
  await must(
    api.post('/rules', {
      name: 'Remind the technician a day before',
      trigger: { eventName: 'job.scheduled' },
      delay: { value: 1, unit: 'days' },
      actions: [
        {
          type: 'sms',
          params: { recipient: { source: 'user', field: 'phone' }, message: 'Job #{{job.number}} tomorrow' },
        },
      ],
    }),
  );
  const event = (n: number, status: string, total: number) =>
    must(
      api.post('/events', {
        id: `job-${n}-${status.toLowerCase()}`,
        name: 'job.status.changed',
        userId: 'tech-7',
        payload: {
          job: { number: n, status, total, client: { name: 'Sam Reed', email: 'sam@example.com' } },
        },
      }),
    );
  for (const [n, status, total] of [
    [1041, 'Done', 240],
    [1042, 'Done', 80],
    [1043, 'Scheduled', 310],
    [1044, 'Done', 455],
  ] as const)
    await event(n, status, total);
  await must(
    api.post('/events', {
      id: 'job-1045-sched',
      name: 'job.scheduled',
      userId: 'tech-7',
      payload: { job: { number: 1045 } },
    }),
  );
  const run = `run-${done.id}-job-1044-done`;
  await eventually(
    async () => ((await api.get(`/executions/${run}`)).body.outcome === 'sent' ? true : undefined),
    60_000,
    'the seeded run',
  );
  // Visibility is eventually consistent: wait until the list and the chart count the runs.
  await eventually(
    async () => ((await api.get('/executions?outcome=sent')).body.items.length >= 2 ? true : undefined),
    30_000,
  );
  return { ruleId: done.id, run };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'crm-screens-'));
  const receiver = await startReceiver();
  const product = await startProduct(dataDir);
  try {
    const api = new HttpClient(product.url, product.apiKey);
    const { ruleId, run } = await seed(api, `${receiver.url}/hooks/jobs`);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 860 },
        deviceScaleFactor: 1,
      });
      const page = await context.newPage();
      await page.goto(`${product.url}/ui/rules`);
      await signIn(page, product.apiKey);
      const shots: [string, string, () => Promise<void>][] = [
        ['ui-rules.png', '/ui/rules', () => page.getByRole('heading', { level: 1 }).waitFor()],
        [
          'ui-rule-editor.png',
          `/ui/rules/${ruleId}`,
          () => page.getByRole('heading', { level: 1 }).waitFor(),
        ],
        ['ui-runs.png', '/ui/runs', () => page.getByRole('img', { name: /Runs per day/ }).waitFor()],
        ['ui-run.png', `/ui/runs/${run}`, () => page.getByText(/Outcome: sent/).waitFor()],
      ];
      for (const [file, url, ready] of shots) {
        await page.goto(`${product.url}${url}`);
        await ready();
        await page.waitForLoadState('networkidle');
        await page.screenshot({ path: path.join(OUT, file), fullPage: false });
        console.log(`wrote docs/img/${file}`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    await product.stop();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`screenshots failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
