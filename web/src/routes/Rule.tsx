/**
 * One rule (`/rules/:id`, or `/rules/new`): the editor, its Enabled switch and the Test panel. Save
 * first dry-runs the rule as written, so the API's warnings are shown before anything is saved
 * ("Save anyway"); the API's validation errors are shown on the fields they name.
 */
import { Suspense, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'wouter';
import { api, ApiProblem, unwrap } from '../api/client';
import { useCan } from '../auth';
import { ErrorMessage } from '../components/Field';
import type { ConditionTree } from '../conditions';
import { ActionsEditor, type ActionDraft } from '../rule-editor/ActionsEditor';
import {
  fieldsOf,
  placeholdersOf,
  samplePayload,
  useEventNames,
  useEventType,
} from '../rule-editor/catalogue';
import { fieldErrors } from '../rule-editor/errors';
import { ConditionsEditor } from '../rule-editor/LazyConditionsEditor';
import { RuleFields, SHOWN_PATHS } from '../rule-editor/RuleFields';
import { TestPanel } from '../rule-editor/TestPanel';
import { EnabledSwitch } from '../rule-editor/EnabledSwitch';
import { Warnings } from '../rule-editor/Warnings';
import { inputOf, newRule, type Rule, type RuleInput, type Warning } from '../rules';

/** Warnings a rule write gives (the rest are about the sample event of a dry run). */
const WRITE_WARNINGS = new Set([
  'no_catalogue',
  'unknown_fact',
  'unknown_path',
  'unknown_placeholder',
  'unknown_recipient_path',
  'numeric_operator_on_string',
]);

function Editor({ rule }: { rule: Rule | null }) {
  const can = useCan();
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  const [draft, setDraft] = useState<RuleInput>(() => (rule ? inputOf(rule) : newRule()));
  const [pending, setPending] = useState<Warning[] | null>(null);
  const [saved, setSaved] = useState<Warning[] | null>(null);
  const patch = (p: Partial<RuleInput>) => {
    setDraft((d) => ({ ...d, ...p }));
    setPending(null);
    setSaved(null);
  };

  const eventName = 'eventName' in draft.trigger ? draft.trigger.eventName : undefined;
  const names = useEventNames();
  // Only names the catalogue has: a half-typed name is no request (and no 400 or 404).
  const type = useEventType(eventName && names.data?.includes(eventName) ? eventName : undefined);
  const templates = useQuery({
    queryKey: ['templates', 'all'],
    queryFn: () => unwrap(api.GET('/templates', { params: { query: { limit: 200 } } })),
    select: (d) => d.items.map((t) => ({ id: t.id, name: t.name })),
  });
  const sample = type.data ? samplePayload(type.data) : undefined;

  // Step 1: the rule as written, dry-run on a sample event: validation errors and warnings, nothing saved.
  const check = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/rules/test', {
          body: { rule: draft, event: { name: eventName || 'schedule.tick', payload: sample ?? {} } },
        }),
      ),
  });
  // Step 2: the write.
  const save = useMutation({
    mutationFn: () =>
      rule
        ? // The Enabled switch saves on its own: keep what it saved.
          unwrap(
            api.PUT('/rules/{id}', {
              params: { path: { id: rule.id } },
              body: { ...draft, enabled: rule.enabled },
            }),
          )
        : unwrap(api.POST('/rules', { body: draft })),
    onSuccess: async (r) => {
      setSaved(r.warnings);
      queryClient.setQueryData(['rule', r.id], r);
      await queryClient.invalidateQueries({ queryKey: ['rules'] });
      if (!rule) navigate(`/rules/${r.id}`, { replace: true });
    },
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    save.reset();
    setSaved(null);
    try {
      const result = await check.mutateAsync();
      const warnings = result.warnings.filter((w) => WRITE_WARNINGS.has(w.code));
      if (warnings.length) return setPending(warnings);
    } catch {
      return; // shown from check.error
    }
    save.mutate();
  };

  // Errors of the check carry the `rule.` prefix of POST /rules/test's body.
  const errors = save.error ? fieldErrors(save.error) : fieldErrors(check.error, 'rule.');
  const problem = save.error ?? check.error;
  const unplaced = errors.rest(SHOWN_PATHS);
  const fields = fieldsOf(type.data);

  return (
    <>
      <form onSubmit={(e) => void submit(e)} noValidate aria-label="Rule">
        <fieldset disabled={!can.write} className="plain">
          {!rule && (
            <label className="check switch-big">
              <input
                type="checkbox"
                checked={draft.enabled}
                onChange={(e) => patch({ enabled: e.target.checked })}
              />{' '}
              Enabled
            </label>
          )}
          <RuleFields
            draft={draft}
            onChange={patch}
            errors={errors}
            eventNames={names.data ?? []}
            fields={fields}
          />
          <fieldset>
            <legend>Conditions</legend>
            <Suspense fallback={<p className="loading">Loading the condition editor…</p>}>
              <ConditionsEditor
                initial={draft.conditions as ConditionTree}
                fields={fields}
                disabled={!can.write}
                onChange={(conditions) => patch({ conditions: conditions as RuleInput['conditions'] })}
              />
            </Suspense>
            {errors.at('conditions') && <p className="field-error">{errors.at('conditions')}</p>}
          </fieldset>
          <ActionsEditor
            actions={draft.actions as ActionDraft[]}
            onChange={(actions) => patch({ actions: actions as RuleInput['actions'] })}
            errors={errors}
            placeholders={placeholdersOf(type.data)}
            templates={templates.data ?? []}
          />
        </fieldset>
        {problem instanceof ApiProblem && (
          <div role="alert" className="error">
            <p>
              The API refused the rule:{' '}
              {problem.details.length ? 'see the fields marked above.' : problem.message}
            </p>
            {unplaced.length > 0 && (
              <ul>
                {unplaced.map((d) => (
                  <li key={d.path}>
                    <code>{d.path}</code>: {d.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        {problem && !(problem instanceof ApiProblem) && <ErrorMessage error={problem} />}
        {pending && (
          <div role="alert">
            <Warnings warnings={pending} title="Check these before saving" />
          </div>
        )}
        {can.write && (
          <div className="toolbar">
            <button type="submit" disabled={check.isPending || save.isPending}>
              Save
            </button>
            {pending && (
              <button type="button" className="secondary" onClick={() => save.mutate()}>
                Save anyway
              </button>
            )}
            {saved && <span role="status">Saved.</span>}
          </div>
        )}
        {saved && <Warnings warnings={saved} title="Saved with warnings" />}
      </form>
      <TestPanel draft={draft} sample={sample} />
    </>
  );
}

export default function RulePage() {
  const { id } = useParams<{ id?: string }>();
  const rule = useQuery({
    queryKey: ['rule', id],
    queryFn: () => unwrap(api.GET('/rules/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
  });
  if (id && rule.isPending) return <p className="loading">Loading…</p>;
  if (id && rule.error)
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title">Rule</h1>
        <ErrorMessage error={rule.error} />
        <Link href="/rules">Back to the rules</Link>
      </section>
    );
  const current = rule.data ?? null;
  return (
    <section aria-labelledby="page-title">
      <p>
        <Link href="/rules">← Rules</Link>
      </p>
      <div className="toolbar">
        <h1 id="page-title">{current ? current.name : 'New rule'}</h1>
        {current && <EnabledSwitch rule={current} />}
        {current && <Link href={`/runs?ruleId=${encodeURIComponent(current.id)}`}>Runs of this rule</Link>}
      </div>
      {/* Keyed by rule: another rule's page starts from that rule, not this draft. */}
      <Editor key={current?.id ?? 'new'} rule={current} />
    </section>
  );
}
