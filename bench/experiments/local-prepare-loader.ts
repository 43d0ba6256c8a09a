/**
 * A webpack loader for the "what if" bundle `--variant local-prepare`: src/workflows/rule-run.ts with
 * its prepareRun activity called as a local activity (same options). It edits the product's source as
 * it is bundled, so the experiment always measures the current workflow and nothing else; when the
 * source no longer has the expected line it fails loudly rather than measure something else.
 */
const FROM = 'const { prepareRun } = proxyActivities<Activities>({';
const TO = 'const { prepareRun } = proxyLocalActivities<Activities>({';

export default function localPrepareLoader(source: string): string {
  if (!source.includes(FROM))
    throw new Error(`local-prepare variant: "${FROM}" is not in rule-run.ts any more`);
  return `import { proxyLocalActivities } from '@temporalio/workflow';\n${source.replace(FROM, TO)}`;
}
