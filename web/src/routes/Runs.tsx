/**
 * The execution list (GET /executions) with its filters kept in the URL query, so a filtered view can
 * be linked; a chart of runs per day by outcome (GET /executions/stats/daily) above it.
 */
import '../pages.css';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { api, ApiProblem, unwrap } from '../api/client';
import type { ExecutionSummary, GetQuery } from '../api/types';
import type { Column } from '../components/DataTable';
import { PagedTable, usePagedList } from '../components/PagedTable';
import { ErrorMessage, Field } from '../components/Field';
import { OutcomeBadge } from '../components/OutcomeBadge';
import { OUTCOME_COLOURS, RunsChart } from '../components/RunsChart';
import { fromLocalInput, toLocalInput, when } from '../format';

type Query = NonNullable<GetQuery<'/executions'>>;
const FILTERS = ['ruleId', 'eventName', 'eventId', 'key', 'outcome', 'kind', 'since', 'until'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

const readFilters = (search: string): Filters => {
  const q = new URLSearchParams(search);
  return Object.fromEntries(FILTERS.flatMap((f) => (q.get(f) ? [[f, q.get(f)!]] : [])));
};

const columns: Column<ExecutionSummary>[] = [
  { header: 'Started', cell: (r) => when(r.startedAt), width: '11rem' },
  { header: 'Rule', cell: (r) => r.ruleName ?? (r.kind === 'event' ? 'event run' : '—') },
  { header: 'Event', cell: (r) => `${r.eventName ?? '—'} ${r.eventId ?? ''}` },
  { header: 'Status', cell: (r) => r.status, width: '7rem' },
  { header: 'Outcome', cell: (r) => <OutcomeBadge outcome={r.outcome} status={r.status} />, width: '10rem' },
  {
    header: 'Run',
    cell: (r) => <Link href={`/runs/${encodeURIComponent(r.workflowId)}`}>{r.workflowId}</Link>,
    width: '30%',
  },
];

export default function RunsPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const filters = readFilters(search);
  const [draft, setDraft] = useState<Filters>(filters);
  const [draftSearch, setDraftSearch] = useState(search);
  // Back/forward or a link changed the URL: the form follows it.
  if (draftSearch !== search) {
    setDraftSearch(search);
    setDraft(filters);
  }

  const apply = (next: Filters) => {
    const q = new URLSearchParams(Object.entries(next).filter(([, v]) => v) as [string, string][]);
    navigate(q.size ? `/runs?${q}` : '/runs');
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply(draft);
  };
  const set =
    (f: keyof Filters, apply_ = false) =>
    (v: string) => {
      const next = { ...draft, [f]: v };
      setDraft(next);
      if (apply_) apply(next);
    };

  const rules = useQuery({
    queryKey: ['rules', 'names'],
    queryFn: () => unwrap(api.GET('/rules', { params: { query: { limit: 200 } } })),
  });
  const eventTypes = useQuery({
    queryKey: ['event-types'],
    queryFn: () => unwrap(api.GET('/event-types', {})),
  });
  const list = usePagedList(
    ['executions', filters],
    (page) => unwrap(api.GET('/executions', { params: { query: { ...(filters as Query), ...page } } })),
    { live: true },
  );
  const daily = useQuery({
    queryKey: ['executions', 'daily', filters.ruleId ?? null],
    queryFn: () =>
      unwrap(
        api.GET('/executions/stats/daily', {
          params: { query: { days: 14, ...(filters.ruleId && { ruleId: filters.ruleId }) } },
        }),
      ),
  });
  const rows = list.rows;
  const problem = list.error instanceof ApiProblem ? list.error : undefined;
  const fieldError = (f: string) => problem?.on(f);

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Runs</h1>
      {daily.data && <RunsChart stats={daily.data} />}
      <ErrorMessage error={daily.error} />

      <form className="filters" onSubmit={submit} aria-label="Filter runs">
        <Field label="Rule" error={fieldError('ruleId')}>
          <select value={draft.ruleId ?? ''} onChange={(e) => set('ruleId', true)(e.target.value)}>
            <option value="">Any rule</option>
            {rules.data?.items.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Event name" error={fieldError('eventName')}>
          <input
            list="runs-event-names"
            value={draft.eventName ?? ''}
            onChange={(e) => set('eventName')(e.target.value)}
          />
        </Field>
        <datalist id="runs-event-names">
          {eventTypes.data?.items.map((t) => (
            <option key={t.name} value={t.name} />
          ))}
        </datalist>
        <Field label="Event id" error={fieldError('eventId')}>
          <input value={draft.eventId ?? ''} onChange={(e) => set('eventId')(e.target.value)} />
        </Field>
        <Field label="Key" error={fieldError('key')}>
          <input value={draft.key ?? ''} onChange={(e) => set('key')(e.target.value)} />
        </Field>
        <Field label="Outcome" error={fieldError('outcome')}>
          <select value={draft.outcome ?? ''} onChange={(e) => set('outcome', true)(e.target.value)}>
            <option value="">Any outcome</option>
            {Object.keys(OUTCOME_COLOURS).map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Kind" error={fieldError('kind')}>
          <select value={draft.kind ?? ''} onChange={(e) => set('kind', true)(e.target.value)}>
            <option value="">Rule runs and events</option>
            <option value="rule-run">Rule runs</option>
            <option value="event">Event runs</option>
          </select>
        </Field>
        <Field label="Started since" error={fieldError('since')}>
          <input
            type="datetime-local"
            value={toLocalInput(draft.since ?? null)}
            onChange={(e) => set('since')(fromLocalInput(e.target.value))}
          />
        </Field>
        <Field label="Started before" error={fieldError('until')}>
          <input
            type="datetime-local"
            value={toLocalInput(draft.until ?? null)}
            onChange={(e) => set('until')(fromLocalInput(e.target.value))}
          />
        </Field>
        <div className="filter-buttons">
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={() => apply({})}>
            Clear
          </button>
        </div>
      </form>

      {problem && !problem.details.length && <ErrorMessage error={problem} />}
      <PagedTable
        list={list}
        label="Runs"
        columns={columns}
        rowKey={(r) => `${r.workflowId}/${r.runId}`}
        empty="No runs match these filters."
      />
      <div className="toolbar">
        <span aria-live="polite">
          {rows.length} run{rows.length === 1 ? '' : 's'} shown
        </span>
      </div>
    </section>
  );
}
