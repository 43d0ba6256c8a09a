/**
 * The rules list: name, trigger, delay, the Enabled switch, the last run and the runs of the last 24 h
 * by outcome. Virtualised (DataTable); the run columns are read per row only while the row is on
 * screen, so 500 rules cost the queries of the rows in view, not 500 × 7.
 */
import { useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation } from 'wouter';
import { api, unwrap } from '../api/client';
import { useCan } from '../auth';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { DataTable, type Column } from '../components/DataTable';
import { ErrorMessage } from '../components/Field';
import { EnabledSwitch } from '../rule-editor/EnabledSwitch';
import { describeDelay, describeTrigger, fetchAllRules, inputOf, type Rule } from '../rules';

const OUTCOMES = ['sent', 'conditions_not_met', 'skipped', 'failed', 'cancelled', 'suppressed'] as const;

function LastRun({ ruleId }: { ruleId: string }) {
  const q = useQuery({
    queryKey: ['executions', 'last', ruleId],
    queryFn: () =>
      unwrap(api.GET('/executions', { params: { query: { ruleId, kind: 'rule-run', limit: 1 } } })),
    staleTime: 30_000,
  });
  if (q.isPending) return <span className="empty">…</span>;
  const run = q.data?.items[0];
  if (!run) return <span className="empty">never</span>;
  return (
    <Link href={`/runs/${encodeURIComponent(run.workflowId)}`}>
      {new Date(run.startedAt).toLocaleString()} · {run.outcome ?? run.status}
    </Link>
  );
}

function RunCounts({ ruleId, since }: { ruleId: string; since: string }) {
  const q = useQuery({
    queryKey: ['executions', 'stats', ruleId, since],
    queryFn: () => unwrap(api.GET('/executions/stats', { params: { query: { since, ruleId } } })),
    staleTime: 60_000,
  });
  const counts = q.data?.rules.find((r) => r.ruleId === ruleId)?.counts;
  if (!counts) return <span className="empty">{q.isPending ? '…' : '—'}</span>;
  const parts = OUTCOMES.filter((o) => counts[o] > 0).map((o) => `${counts[o]} ${o.replace(/_/g, ' ')}`);
  return <span>{parts.length ? parts.join(', ') : 'none'}</span>;
}

export default function RulesPage() {
  const can = useCan();
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  const rules = useQuery({ queryKey: ['rules'], queryFn: fetchAllRules });
  // One "last 24 h" for the page's lifetime, so every row's query shares it (and its cache).
  const since = useMemo(() => new Date(Date.now() - 24 * 3_600_000).toISOString(), []);
  const [deleting, setDeleting] = useState<Rule | null>(null);

  const duplicate = useMutation({
    mutationFn: (rule: Rule) =>
      // The copy starts disabled: two enabled copies would both send.
      unwrap(
        api.POST('/rules', { body: { ...inputOf(rule), name: `Copy of ${rule.name}`, enabled: false } }),
      ),
    onSuccess: async (copy) => {
      await queryClient.invalidateQueries({ queryKey: ['rules'] });
      navigate(`/rules/${copy.id}`);
    },
  });
  const remove = useMutation({
    mutationFn: (rule: Rule) => unwrap(api.DELETE('/rules/{id}', { params: { path: { id: rule.id } } })),
    onSuccess: async () => {
      setDeleting(null);
      await queryClient.invalidateQueries({ queryKey: ['rules'] });
    },
  });

  const columns: Column<Rule>[] = [
    { header: 'Name', width: '20%', cell: (r) => <Link href={`/rules/${r.id}`}>{r.name}</Link> },
    { header: 'Trigger', width: '15%', cell: (r) => describeTrigger(r.trigger) },
    { header: 'Delay', width: '11%', cell: (r) => describeDelay(r.delay) },
    { header: 'Enabled', width: '6rem', cell: (r) => <EnabledSwitch rule={r} inList /> },
    { header: 'Last run', width: '17%', cell: (r) => <LastRun ruleId={r.id} /> },
    { header: 'Runs, last 24 h', width: '17%', cell: (r) => <RunCounts ruleId={r.id} since={since} /> },
  ];
  if (can.write)
    columns.push({
      header: 'Actions',
      width: '11rem',
      cell: (r) => (
        <span className="row-actions">
          <button
            type="button"
            className="secondary"
            onClick={() => duplicate.mutate(r)}
            aria-label={`Duplicate ${r.name}`}
          >
            Duplicate
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => setDeleting(r)}
            aria-label={`Delete ${r.name}`}
          >
            Delete
          </button>
        </span>
      ),
    });

  return (
    <section aria-labelledby="page-title">
      <div className="toolbar">
        <h1 id="page-title">Rules</h1>
        {can.write && (
          <button type="button" onClick={() => navigate('/rules/new')}>
            New rule
          </button>
        )}
        {rules.data && <span className="empty">{rules.data.length} rules</span>}
      </div>
      <ErrorMessage error={rules.error ?? duplicate.error ?? remove.error} />
      {rules.isPending ? (
        <p className="loading">Loading…</p>
      ) : (
        <DataTable
          label="Rules list"
          rows={rules.data ?? []}
          columns={columns}
          rowKey={(r) => r.id}
          empty={can.write ? 'No rules yet: “New rule” makes one.' : 'No rules yet.'}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this rule?"
        confirmLabel="Delete rule"
        onConfirm={() => deleting && remove.mutate(deleting)}
        onCancel={() => setDeleting(null)}
      >
        <p>
          “{deleting?.name}” will stop matching events. Runs already sleeping end skipped when they wake. Its
          history stays in the audit trail.
        </p>
      </ConfirmDialog>
    </section>
  );
}
