/**
 * One run (GET /executions/:id): what it is, its timeline, its deliveries, Cancel / Retry where the API
 * allows them (hidden for a read-only key), and a link to the run in the Temporal Web UI.
 */
import '../pages.css';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'wouter';
import { api, unwrap } from '../api/client';
import type { Execution } from '../api/types';
import { useCan } from '../auth';
import { ConfirmButton } from '../components/Confirm';
import { ErrorMessage } from '../components/Field';
import { OutcomeBadge } from '../components/OutcomeBadge';
import { Timeline } from '../components/Timeline';
import { when } from '../format';

/** Mirrors ExecutionService.retry's rule: only a rule run that did not finish on its own. */
const RETRYABLE = ['failed', 'terminated', 'timed_out'];
const link = (id: string) => <Link href={`/runs/${encodeURIComponent(id)}`}>{id}</Link>;

function Facts({ run }: { run: Execution }) {
  return (
    <dl className="facts">
      <dt>Status</dt>
      <dd>{run.status}</dd>
      <dt>Outcome</dt>
      <dd>
        <OutcomeBadge outcome={run.outcome} status={run.status} />
      </dd>
      <dt>Rule</dt>
      <dd>
        {run.ruleId ? (
          <Link href={`/rules/${run.ruleId}`}>{run.ruleName ?? run.ruleId}</Link>
        ) : (
          (run.ruleName ?? '—')
        )}
        {run.ruleVersion !== null && <> (version {run.ruleVersion})</>}
      </dd>
      <dt>Event</dt>
      <dd>
        {run.eventName ?? '—'} {run.eventId ?? ''}
      </dd>
      <dt>Started</dt>
      <dd>{when(run.startedAt)}</dd>
      <dt>Closed</dt>
      <dd>{when(run.closedAt)}</dd>
      {run.parentWorkflowId && (
        <>
          <dt>Event run</dt>
          <dd>{link(run.parentWorkflowId)}</dd>
        </>
      )}
      {run.retryOf && (
        <>
          <dt>Retry of</dt>
          <dd>{link(run.retryOf)}</dd>
        </>
      )}
      {run.error && (
        <>
          <dt>Error</dt>
          <dd className="error">
            {run.error.type && `${run.error.type}: `}
            {run.error.message}
          </dd>
        </>
      )}
    </dl>
  );
}

export default function RunPage() {
  const { id } = useParams<{ id: string }>();
  const workflowId = decodeURIComponent(id);
  const can = useCan();
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  const run = useQuery({
    queryKey: ['execution', workflowId],
    queryFn: () => unwrap(api.GET('/executions/{workflowId}', { params: { path: { workflowId } } })),
    // A run in flight changes (waits end, attempts happen): follow it.
    refetchInterval: (q) => (q.state.data?.status === 'running' ? 2000 : false),
  });
  const cancel = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/executions/{workflowId}/cancel', { params: { path: { workflowId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['execution', workflowId] }),
  });
  const retry = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/executions/{workflowId}/retry', { params: { path: { workflowId } } })),
    onSuccess: (r) => navigate(`/runs/${encodeURIComponent(r.workflowId)}`),
  });

  const r = run.data;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Run {workflowId}</h1>
      <p>
        <Link href="/runs">All runs</Link>
      </p>
      {run.isPending && <p className="loading">Loading…</p>}
      <ErrorMessage error={run.error} />
      {r && (
        <>
          <div className="toolbar">
            {can.write && r.status === 'running' && (
              <ConfirmButton
                label="Cancel"
                question="Cancel this run? Nothing more will be sent."
                confirmLabel="Yes, cancel the run"
                disabled={cancel.isPending}
                onConfirm={() => cancel.mutate()}
              />
            )}
            {can.write && r.kind === 'rule-run' && RETRYABLE.includes(r.status) && (
              <ConfirmButton
                label="Retry"
                question="Run this rule again for this event?"
                confirmLabel="Yes, retry"
                danger={false}
                disabled={retry.isPending}
                onConfirm={() => retry.mutate()}
              />
            )}
            {cancel.isSuccess && r.status === 'running' && <span role="status">Cancellation requested…</span>}
            {r.temporalUiUrl && (
              <a href={r.temporalUiUrl} target="_blank" rel="noreferrer">
                Open in Temporal Web UI
              </a>
            )}
          </div>
          <ErrorMessage error={cancel.error ?? retry.error} />
          <Facts run={r} />

          <h2>Timeline</h2>
          <Timeline entries={r.timeline} />

          {r.ruleRuns && (
            <>
              <h2>Rule runs</h2>
              <ul>
                {r.ruleRuns.map((c) => (
                  <li key={c.workflowId}>
                    {c.ruleName ?? c.ruleId}: {link(c.workflowId)} ({c.status})
                  </li>
                ))}
              </ul>
            </>
          )}

          <h2>Deliveries</h2>
          {r.deliveries?.length ? (
            <table className="compact">
              <thead>
                <tr>
                  <th scope="col">Action</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Provider id</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Status</th>
                  <th scope="col">Error code</th>
                </tr>
              </thead>
              <tbody>
                {r.deliveries.map((d) => (
                  <tr key={d.actionIndex}>
                    <td>{d.actionIndex + 1}</td>
                    <td>{d.channel}</td>
                    <td>{d.providerId ?? '—'}</td>
                    <td>{when(d.deliveredAt)}</td>
                    <td>
                      {d.status ?? 'accepted'}
                      {d.statusAt && ` (${when(d.statusAt)})`}
                    </td>
                    <td>{d.errorCode ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="empty">Nothing delivered.</p>
          )}

          {r.event && (
            <>
              <h2>Event</h2>
              <details>
                <summary>
                  Payload of {r.event.name} {r.event.id}
                </summary>
                <pre>{JSON.stringify(r.event.payload, null, 2)}</pre>
              </details>
            </>
          )}
          {r.result !== null && (
            <details>
              <summary>Result</summary>
              <pre>{JSON.stringify(r.result, null, 2)}</pre>
            </details>
          )}
        </>
      )}
    </section>
  );
}
