/**
 * The Temporal server and its schema tool for `npm run start:cluster`, built from the Go module at the
 * pinned version (src/dev/versions.ts) into .tools/temporal-server/<version>/ — the same binaries the
 * temporalio/server and admin-tools images carry. Built only when missing (the Go build cache makes a
 * rebuild quick). Run directly (`npm run temporal:server`) it builds them and prints the paths.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { TEMPORAL_SERVER_VERSION } from './versions';

const ROOT = path.resolve(__dirname, '../..');

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
  /** The module's schema/ directory (postgresql/v12/{temporal,visibility}/versioned). */
  schemaDir: string;
}

const log = (msg: string) => process.stderr.write(`[temporal-server] ${msg}\n`);

function goEnv(name: string): string {
  return execFileSync('go', ['env', name], { encoding: 'utf8' }).trim();
}

export function resolveTemporalServer(version = TEMPORAL_SERVER_VERSION): TemporalServerBinaries {
  const dir = path.join(ROOT, '.tools', 'temporal-server', version);
  const server = path.join(dir, 'server');
  const sqlTool = path.join(dir, 'temporal-sql-tool');
  const module = `go.temporal.io/server@v${version}`;
  const schemaDir = () => path.join(goEnv('GOMODCACHE'), module, 'schema');
  if (existsSync(server) && existsSync(sqlTool) && existsSync(schemaDir())) {
    return { server, sqlTool, schemaDir: schemaDir() };
  }
  mkdirSync(dir, { recursive: true });
  log(`building Temporal server v${version} with go install into ${path.relative(ROOT, dir)}`);
  const env = { ...process.env, GOBIN: dir, GOFLAGS: '-mod=mod' };
  execFileSync('go', ['install', `go.temporal.io/server/cmd/server@v${version}`], { stdio: 'inherit', env });
  execFileSync('go', ['install', `go.temporal.io/server/cmd/tools/sql@v${version}`], {
    stdio: 'inherit',
    env,
  });
  // The image calls it temporal-sql-tool; so do the schema script and the docs.
  renameSync(path.join(dir, 'sql'), sqlTool);
  return { server, sqlTool, schemaDir: schemaDir() };
}

async function main() {
  console.log(JSON.stringify(resolveTemporalServer()));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
