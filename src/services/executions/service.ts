/**
 * The execution log, read from Temporal only: visibility for lists, workflow history (plus
 * describe() for activities still in flight) for one run's timeline. There is no second log store.
 *
 * Tenancy: every visibility query carries `AccountId = '<caller>'`, and a single run is shown only
 * when its AccountId search attribute is the caller's; anything else is "not found".
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  defaultPayloadConverter,
  type Client,
  type RawWorkflowExecutionInfo,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { formatDuration } from '../../config';
import { ApiError } from '../../shared/errors';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES, workflowIds } from '../../shared/constants';
import { accountPriority } from '../../shared/priority';
import type { RuleRunInput } from '../../shared/run-types';
import {
  PayloadDecoder,
  decodePendingActivities,
  int,
  iso,
  kindOf,
  payloadDecoder,
  statusFromCode,
  str,
  tsMs,
} from './history-values';
import { DecodedRun, decodeHistory } from './timeline';
import {
  ExecutionDetail,
  ExecutionList,
  ExecutionStatus,
  ExecutionSummary,
  ListQuery,
  WORKFLOW_ID,
  buildListQuery,
  cancelResponseSchema,
  retryResponseSchema,
  ruleRunRefSchema,
} from './schemas';
import { runOutcome } from './outcome';

const invalidCursor = () => new ApiError(400, 'invalid_cursor', 'cursor is not one this API returned');

/**
 * A cursor is Temporal's page token, prefixed with a short hash of the query it belongs to: a cursor
 * used with other filters (or made up) is refused instead of paging some other list.
 */
const queryTag = (query: string) => createHash('sha256').update(query).digest().subarray(0, 8);

function writeCursor(token: Uint8Array, query: string): string {
  return Buffer.concat([queryTag(query), Buffer.from(token)]).toString('base64url');
}

function readCursor(cursor: string, query: string): Uint8Array {
  const raw = Buffer.from(cursor, 'base64url');
  if (raw.length <= 8 || !raw.subarray(0, 8).equals(queryTag(query))) throw invalidCursor();
  return raw.subarray(8);
}

const RETRYABLE: ExecutionStatus[] = ['failed', 'terminated', 'timed_out'];
const notFound = () => ApiError.notFound('execution');

export class ExecutionService {
  private readonly decode: PayloadDecoder;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {
    this.decode = payloadDecoder(client.options.loadedDataConverter);
  }

  private get namespace(): string {
    return this.client.options.namespace;
  }

  private retentionRead: { at: number; value: Promise<ExecutionList['retention']> } | undefined;

  /** The namespace's retention, read at most once a minute (an operator may change it at any time). */
  private retention(): Promise<ExecutionList['retention']> {
    if (!this.retentionRead || Date.now() - this.retentionRead.at > 60_000) {
      const value = this.client.workflowService
        .describeNamespace({ namespace: this.namespace })
        .then((ns) => {
          const ttl = ns.config?.workflowExecutionRetentionTtl;
          const seconds = ttl?.seconds ? Number(ttl.seconds) : 0;
          return seconds > 0 ? { seconds, duration: formatDuration(seconds) } : null;
        })
        .catch(() => {
          this.retentionRead = undefined; // ask again next time
          return null;
        });
      this.retentionRead = { at: Date.now(), value };
    }
    return this.retentionRead.value;
  }

  async list(accountId: string, q: ListQuery): Promise<ExecutionList> {
    const query = buildListQuery(accountId, q);
    const nextPageToken = q.cursor === undefined ? undefined : readCursor(q.cursor, query);
    const retention = this.retention();
    let response;
    try {
      response = await this.client.workflowService.listWorkflowExecutions({
        namespace: this.namespace,
        query,
        pageSize: q.limit,
        nextPageToken,
      });
    } catch (err) {
      // A token the server cannot read is the caller's mistake, not ours.
      if (q.cursor !== undefined && (err as { code?: number }).code === 3) throw invalidCursor();
      throw err;
    }
    const items = await Promise.all(response.executions.map((raw) => this.summarize(accountId, raw)));
    // Defence in depth: never hand out a row of another account, whatever the query matched.
    const own = items.filter((i) => i.accountId === accountId).map(({ accountId: _a, ...rest }) => rest);
    const token = response.nextPageToken;
    return {
      items: own,
      nextCursor: token && token.length ? writeCursor(token, query) : null,
      retention: await retention,
    };
  }

  private async summarize(
    accountId: string,
    raw: RawWorkflowExecutionInfo,
  ): Promise<ExecutionSummary & { accountId: unknown }> {
    const sa: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(raw.searchAttributes?.indexedFields ?? {})) {
      // Search attributes always use the default (JSON) converter, never a custom codec.
      const v = defaultPayloadConverter.fromPayload(p);
      sa[k] = Array.isArray(v) ? v[0] : v;
    }
    const memo: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(raw.memo?.fields ?? {})) memo[k] = await this.decode(p);
    const workflowType = raw.type?.name ?? '';
    const kind = kindOf(workflowType);
    const status = statusFromCode(raw.status);
    const workflowId = raw.execution?.workflowId ?? '';
    const runId = raw.execution?.runId ?? '';
    // Another account's row is dropped by the caller: never read its history.
    const outcome =
      sa.AccountId === accountId
        ? await runOutcome(this.client, this.decode, {
            kind,
            status,
            attribute: sa.Outcome,
            workflowId,
            runId,
          })
        : null;
    return {
      accountId: sa.AccountId,
      workflowId,
      runId,
      kind,
      workflowType,
      status,
      outcome,
      ruleId: str(sa.RuleId),
      ruleName: str(memo.ruleName),
      ruleVersion: int(memo.ruleVersion),
      eventName: str(sa.EventName),
      eventId: str(sa.EventId),
      retryOf: str(memo.retryOf),
      startedAt: iso(tsMs(raw.startTime)) ?? new Date(0).toISOString(),
      closedAt: iso(tsMs(raw.closeTime)),
    };
  }

  /** describe() of the latest run, or 404 when it does not exist or is another account's. */
  private async describeOwn(accountId: string, workflowId: string): Promise<WorkflowExecutionDescription> {
    if (!WORKFLOW_ID.test(workflowId)) throw notFound();
    let d: WorkflowExecutionDescription;
    try {
      d = await this.client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      throw err;
    }
    if (d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.AccountId) !== accountId) throw notFound();
    return d;
  }

  async get(accountId: string, workflowId: string): Promise<ExecutionDetail> {
    const d = await this.describeOwn(accountId, workflowId);
    const status = statusFromCode(d.status.code);
    const handle = this.client.workflow.getHandle(workflowId, d.runId);
    const [history, pending] = await Promise.all([
      handle.fetchHistory(),
      status === 'running' ? decodePendingActivities(d.raw, this.decode) : Promise.resolve([]),
    ]);
    const run = await decodeHistory(history, this.decode, pending);
    const memo = d.memo ?? {};
    const input = run.input as Partial<RuleRunInput> | null;
    const ruleRuns = run.kind === 'event' ? await this.childStatuses(run.children) : null;
    return {
      workflowId,
      runId: d.runId,
      kind: run.kind,
      workflowType: d.type,
      status,
      ruleId: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.RuleId) ?? null,
      ruleName: str(memo.ruleName) ?? input?.rule?.name ?? null,
      ruleVersion: run.ruleVersion ?? int(memo.ruleVersion),
      eventName: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.EventName) ?? run.event?.name ?? null,
      eventId: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.EventId) ?? run.event?.id ?? null,
      retryOf: input?.retryOf ?? str(memo.retryOf),
      outcome: await runOutcome(
        this.client,
        this.decode,
        {
          kind: run.kind,
          status,
          attribute: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.Outcome),
          workflowId,
          runId: d.runId,
        },
        async () => run.result,
      ),
      startedAt: d.startTime.toISOString(),
      closedAt: d.closeTime ? d.closeTime.toISOString() : null,
      event: run.event,
      result: run.result ?? null,
      error: run.error,
      parentWorkflowId: run.parentWorkflowId,
      ruleRuns,
      timeline: run.timeline,
    };
  }

  /** Strongly consistent statuses of an event run's rule runs (visibility could lag behind). */
  private async childStatuses(children: DecodedRun['children']): Promise<z.infer<typeof ruleRunRefSchema>[]> {
    const out: z.infer<typeof ruleRunRefSchema>[] = [];
    const batch = 10;
    for (let i = 0; i < children.length; i += batch) {
      out.push(
        ...(await Promise.all(
          children.slice(i, i + batch).map(async (c) => {
            const status = await this.client.workflow
              .getHandle(c.workflowId)
              .describe()
              .then((d) => statusFromCode(d.status.code))
              .catch(() => 'unknown' as const);
            return { ...c, status };
          }),
        )),
      );
    }
    return out;
  }

  async cancel(accountId: string, workflowId: string): Promise<z.infer<typeof cancelResponseSchema>> {
    const d = await this.describeOwn(accountId, workflowId);
    const status = statusFromCode(d.status.code);
    if (status !== 'running') {
      throw new ApiError(
        409,
        'not_running',
        `execution is ${status}, only a running execution can be cancelled`,
      );
    }
    await this.client.workflow.getHandle(workflowId, d.runId).cancel();
    return { workflowId, status: 'cancel_requested' };
  }

  /**
   * Starts a new run of the same rule for the same event, linked to the old one (`retryOf` in the input
   * and memo). Unlike Temporal's reset, the old run and its history stay as they are.
   */
  async retry(accountId: string, workflowId: string): Promise<z.infer<typeof retryResponseSchema>> {
    const d = await this.describeOwn(accountId, workflowId);
    if (kindOf(d.type) !== 'rule-run') {
      throw new ApiError(409, 'not_retryable', 'only a rule run can be retried; retry its rule runs instead');
    }
    const status = statusFromCode(d.status.code);
    if (!RETRYABLE.includes(status)) {
      throw new ApiError(
        409,
        'not_retryable',
        `execution is ${status}; only a failed, terminated or timed-out rule run can be retried`,
      );
    }
    const first = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.namespace,
      execution: { workflowId, runId: d.runId },
      maximumPageSize: 1,
    });
    const started = first.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = (await this.decode(started?.input?.payloads?.[0])) as RuleRunInput | undefined;
    if (!input?.rule || !input.event)
      throw new ApiError(409, 'not_retryable', 'the run has no input to repeat');
    const args: RuleRunInput = { ...input, retryOf: workflowId };
    const memo = { ...(d.memo ?? {}), kind: 'rule-run', retryOf: workflowId };

    const { root, next } = retryRoot(workflowId, str(d.memo?.retryOf));
    for (let n = next, tries = 0; tries < 100; n++, tries++) {
      const newId = workflowIds.retry(root, n);
      try {
        const handle = await this.client.workflow.start(WORKFLOW_TYPES.ruleRun, {
          taskQueue: this.taskQueue,
          workflowId: newId,
          args: [args],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.AccountId, value: accountId },
            { key: SEARCH_ATTRIBUTES.RuleId, value: input.rule.id },
            { key: SEARCH_ATTRIBUTES.EventName, value: input.event.name },
            { key: SEARCH_ATTRIBUTES.EventId, value: input.event.id },
          ],
          memo,
          priority: accountPriority(accountId),
          staticSummary: `${input.rule.name} · ${input.event.name} ${input.event.id} (retry ${n})`,
          staticDetails: `Retry ${n} of \`${workflowId}\` (${status}): rule **${input.rule.name}** for event \`${input.event.name}\` \`${input.event.id}\`.`,
        });
        return { workflowId: newId, runId: handle.firstExecutionRunId, retryOf: workflowId };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) continue;
        throw err;
      }
    }
    throw new ApiError(409, 'too_many_retries', 'this run has been retried too many times');
  }
}

/**
 * The run a retry repeats and the next retry number: `R~retry-N` (event ids cannot hold `~`), or a
 * retry of before this form, `R-retry-N`. Either is a retry only when its memo's `retryOf` says so: a
 * keyed rule's run for the key `retry-1` is `run-R~retry-1`, and its retry must not become the run of
 * the key `retry-2`.
 */
export function retryRoot(workflowId: string, retryOf: string | null): { root: string; next: number } {
  const m = retryOf ? (/^(.*)~retry-(\d+)$/.exec(workflowId) ?? /^(.*)-retry-(\d+)$/.exec(workflowId)) : null;
  return m ? { root: m[1], next: Number(m[2]) + 1 } : { root: workflowId, next: 1 };
}
