/**
 * `npm run cli -- replay …`: replays workflow histories against the current workflow code, the
 * determinism check to run before deploying a workflow change.
 *
 *   replay FILE.json [FILE.json …]   histories from `temporal workflow show -w ID -o json` (or the UI)
 *   replay --workflow-id ID [--run-id RUN]   fetched from TEMPORAL_ADDRESS
 *   replay --query "RuleId='…'"      every run a visibility query matches
 *
 * Exit 0 when every history replays; 1 when one does not (the message names the workflow and the
 * mismatch); 2 for a usage error.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError, type HistoryAndWorkflowId } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import {
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  Worker,
  type ReplayWorkerOptions,
} from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFor } from '../codec';
import type { Config } from '../config';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../worker/bundle';
import { temporalConnectionOptions } from '../temporal';

const USAGE = `usage: npm run cli -- replay FILE.json [FILE.json ...]
       npm run cli -- replay --workflow-id ID [--run-id RUN_ID]
       npm run cli -- replay --query "RuleId='rule_...'"`;

export interface ReplayOutcome {
  workflowId: string;
  ok: boolean;
  /** The mismatch, for a history that does not replay. */
  error?: string;
}

/** The same workflow code the worker runs: the workflows and their interceptors (see src/worker/bundle.ts). */
function replayOptions(dataConverter?: DataConverter): ReplayWorkerOptions {
  return {
    workflowsPath: require.resolve('../workflows'),
    // Encrypted histories need the keys; plain (older) ones pass the codec unchanged.
    ...(dataConverter && { dataConverter }),
    interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES },
    replayName: 'crm-replay',
  };
}

/** "[TMPRL1100] Nondeterminism error: Activity type of scheduled event 'x' does not match …" from the SDK's wrapping. */
export function describeReplayError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const inner =
    /\[TMPRL\d+\][^"\\]*(?:\\.[^"\\]*)*/.exec(message)?.[0] ??
    /Nondeterminism error:[^"]*/.exec(message)?.[0];
  const kind = err instanceof DeterminismViolationError ? 'nondeterminism' : 'replay failed';
  return `${kind}: ${(inner ?? message).replace(/\\"/g, '"').replace(/\\'/g, "'")}`;
}

/** The workflow id recorded in a history's first event, if the server wrote it there. */
function workflowIdOf(history: History): string | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? undefined;
}

async function loadFile(file: string): Promise<HistoryAndWorkflowId> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let history: History;
  try {
    history = historyFromJSON(json);
  } catch (err) {
    throw new UsageError(`${file} is not a workflow history (${(err as Error).message})`);
  }
  return { workflowId: workflowIdOf(history) ?? path.basename(file, '.json'), history };
}

class UsageError extends Error {}

/** Replays one history (Worker.runReplayHistory). */
export async function replayOne(
  h: HistoryAndWorkflowId,
  dataConverter?: DataConverter,
): Promise<ReplayOutcome> {
  try {
    await Worker.runReplayHistory(replayOptions(dataConverter), h.history, h.workflowId);
    return { workflowId: h.workflowId, ok: true };
  } catch (err) {
    return { workflowId: h.workflowId, ok: false, error: describeReplayError(err) };
  }
}

/** Replays many histories with one replay worker (Worker.runReplayHistories), reporting each. */
export async function replayMany(
  histories: AsyncIterable<HistoryAndWorkflowId> | Iterable<HistoryAndWorkflowId>,
  onResult: (r: ReplayOutcome) => void = () => undefined,
  dataConverter?: DataConverter,
): Promise<ReplayOutcome[]> {
  const out: ReplayOutcome[] = [];
  for await (const r of Worker.runReplayHistories(replayOptions(dataConverter), histories)) {
    const outcome = r.error
      ? { workflowId: r.workflowId, ok: false, error: describeReplayError(r.error) }
      : { workflowId: r.workflowId, ok: true };
    out.push(outcome);
    onResult(outcome);
  }
  return out;
}

function installQuietRuntime(): void {
  try {
    // The mismatch is reported once, by us; core's own WARN about the failed task would repeat it.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
  } catch {
    /* already installed (e.g. when called in a process that runs a worker) */
  }
}

function print(r: ReplayOutcome): void {
  if (r.ok) console.log(`ok      ${r.workflowId}`);
  else console.error(`FAILED  ${r.workflowId}: ${r.error}`);
}

export async function replayCommand(config: Config, args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'workflow-id': { type: 'string' },
        'run-id': { type: 'string' },
        query: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`replay: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const modes = [positionals.length > 0, values['workflow-id'] !== undefined, values.query !== undefined];
  if (values.help || modes.filter(Boolean).length !== 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  installQuietRuntime();
  const dataConverter = dataConverterFor(config);

  let results: ReplayOutcome[];
  try {
    if (positionals.length === 1) {
      const h = await loadFile(positionals[0]);
      results = [await replayOne(h, dataConverter)];
      print(results[0]);
    } else if (positionals.length > 1) {
      const histories = await Promise.all(positionals.map(loadFile));
      results = await replayMany(histories, print, dataConverter);
    } else {
      const options = temporalConnectionOptions(config);
      const connection = await Connection.connect(options).catch((err: unknown) => {
        throw new Error(`cannot connect to Temporal at ${options.address}: ${(err as Error).message}`);
      });
      try {
        const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
        if (values['workflow-id'] !== undefined) {
          const workflowId = values['workflow-id'];
          let history: History;
          try {
            history = await client.workflow.getHandle(workflowId, values['run-id']).fetchHistory();
          } catch (err) {
            // fetchHistory() reports a missing workflow as gRPC NOT_FOUND (5), not WorkflowNotFoundError.
            if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5)
              throw new UsageError(`no workflow ${workflowId} in namespace ${config.TEMPORAL_NAMESPACE}`);
            throw err;
          }
          results = [await replayOne({ workflowId, history }, dataConverter)];
          print(results[0]);
        } else {
          results = await replayMany(
            client.workflow.list({ query: values.query }).intoHistories(),
            print,
            dataConverter,
          );
          if (!results.length) console.error(`no workflow matches ${values.query}`);
        }
      } finally {
        await connection.close();
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`replay: ${err.message}`);
      return 2;
    }
    throw err;
  }

  const failed = results.filter((r) => !r.ok);
  const summary = `replayed ${results.length} histor${results.length === 1 ? 'y' : 'ies'}: ${results.length - failed.length} ok, ${failed.length} failed`;
  if (failed.length) {
    console.error(summary);
    console.error('The current workflow code is not compatible with these histories: do not deploy it as is');
    console.error('(keep the old code path behind patched() for runs in flight, or let them finish first).');
    return 1;
  }
  console.log(summary);
  return 0;
}
