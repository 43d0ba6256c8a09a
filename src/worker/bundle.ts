/**
 * The workflow bundle, built once at image build time so a worker starts without running webpack:
 *
 *   node dist/src/worker/bundle.js [OUT_FILE]     (compiled; what the Dockerfile runs)
 *   npm run build:bundle                          (tsx src/worker/bundle.ts)
 *
 * writes dist/workflow-bundle.js with the workflows and their interceptors (./interceptors.ts). A
 * compiled worker (dist/src/worker/main.js) loads that file when it exists. Anything else that
 * bundles the workflows (tests, replay) should use `workflowBundleOptions()` so it runs the same code.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';

/** The repository root (or /app in the image), whether this file runs from src/ or from dist/src/. */
const ROOT = path.resolve(__dirname, __filename.endsWith('.ts') ? '../..' : '../../..');

export const PREBUILT_BUNDLE = path.join(ROOT, 'dist', 'workflow-bundle.js');

/** Workflow interceptor modules; they are baked into the bundle, so a `workflowBundle` worker needs them here. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('./interceptors')];

export function workflowBundleOptions(): Pick<
  BundleOptions,
  'workflowsPath' | 'workflowInterceptorModules' | 'failureConverterPath'
> {
  return {
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    // A run's own failure message can name a recipient: it goes into the (encrypted) encoded attributes.
    failureConverterPath: require.resolve('../failure-converter'),
  };
}

const quiet: NonNullable<BundleOptions['logger']> = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn: (message, meta) => console.warn(message, meta ?? ''),
  error: (message, meta) => console.error(message, meta ?? ''),
};

/** Bundles the workflows and writes the file atomically; returns its path and size. */
export async function buildWorkflowBundle(
  outFile = PREBUILT_BUNDLE,
): Promise<{ path: string; bytes: number }> {
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: quiet });
  mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, outFile);
  return { path: outFile, bytes: Buffer.byteLength(code) };
}

if (require.main === module) {
  const out = process.argv[2] ? path.resolve(process.argv[2]) : PREBUILT_BUNDLE;
  buildWorkflowBundle(out).then(
    (b) => console.log(`workflow bundle: ${b.path} (${(b.bytes / 1024).toFixed(0)} KiB)`),
    (err: unknown) => {
      console.error(`workflow bundle failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
