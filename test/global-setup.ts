/**
 * Starts real PostgreSQL and a real Temporal dev server once per test run (or uses DATABASE_URL /
 * TEMPORAL_ADDRESS when given), resolves the time-skipping test server, and bundles the workflows once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { resolveTemporalCli, resolveTestServer } from '../src/dev/temporal-bin';
import { startPostgres, startTemporalDevServer, type Service } from '../src/dev/services';
import { freePort } from './helpers/ports';
import { workflowBundleOptions } from '../src/worker/bundle';
import { migrate } from '../src/cli/main';
import { generateEncryptionKeys } from '../src/codec';

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crm-test-'));
  const services: Service[] = [];
  (globalThis as { __services?: Service[] }).__services = services;
  (globalThis as { __dataDir?: string }).__dataDir = dir;

  process.env.TEMPORAL_CLI_PATH = resolveTemporalCli();
  process.env.TEMPORAL_TEST_SERVER_PATH = resolveTestServer();
  // Every stack encrypts its payloads, as `npm start` does (test/helpers/stack.ts).
  process.env.TEST_PAYLOAD_ENCRYPTION_KEYS ??= generateEncryptionKeys();

  // The same bundle the worker runs, interceptors included.
  const bundlePromise = bundleWorkflowCode({
    ...workflowBundleOptions(),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} },
  });

  if (!process.env.DATABASE_URL) {
    const pg = await startPostgres({ dataDir: dir, port: await freePort(), fast: true });
    services.push(pg);
    process.env.TEST_DATABASE_URL = pg.url;
  } else {
    process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
  }
  if (!process.env.TEMPORAL_ADDRESS) {
    const temporal = await startTemporalDevServer({
      dataDir: path.join(dir, 'temporal'),
      port: await freePort(),
      headless: true,
    });
    services.push(temporal);
    process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  } else {
    process.env.TEST_TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS;
  }

  const bundle = await bundlePromise;
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;

  // Migrate once: test files share the database, each with accounts of its own.
  await migrate(process.env.TEST_DATABASE_URL);
}
