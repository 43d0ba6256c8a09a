/**
 * The Test panel: dry-runs the rule as it is on screen (POST /rules/test, saved or not) against a
 * sample event, pre-filled from the catalogue's latest payload of the event type. Shows Matched or
 * Not matched, each condition with the value it read, the send time and each rendered message; an
 * email's HTML in a sandboxed iframe (no scripts, opaque origin). Nothing is sent.
 */
import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { api, ApiProblem, unwrap, type Schemas } from '../api/client';
import { Field } from '../components/Field';
import { fieldOf } from '../conditions';
import { describeDelay, type RuleInput } from '../rules';
import { fieldErrors } from './errors';
import { Warnings } from './Warnings';

type DryRun = Schemas['DryRunResult'];

const show = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));

function SendTime({ result, delay }: { result: DryRun; delay: RuleInput['delay'] }) {
  const st = result.sendTime;
  if (!st) {
    const ms =
      'until' in delay
        ? 0
        : delay.value * { seconds: 1e3, minutes: 6e4, hours: 36e5, days: 864e5 }[delay.unit];
    return (
      <p>
        Send time: {new Date(Date.now() + ms).toLocaleString()} ({describeDelay(delay as never)}, for an event
        received now)
      </p>
    );
  }
  if (st.status === 'skip') return <p>Send time: none, the run would be skipped: {st.reason}</p>;
  return (
    <p>
      Send time: {new Date(st.sendAt).toLocaleString()} ({st.basis}
      {st.window ? `; the window moved it from ${new Date(st.dueAt).toLocaleString()}` : ''}
      {st.timezone ? `; timezone ${st.timezone}` : ''})
    </p>
  );
}

function Rendered({ a }: { a: DryRun['actions'][number] }) {
  const title = `Action ${a.index + 1} (${a.type})`;
  if ('error' in a)
    return (
      <li>
        {title}: <span className="error">cannot be rendered: {a.error}</span>
      </li>
    );
  if (a.type === 'webhook')
    return (
      <li>
        {title}: {a.method} {a.url}
        <pre>{JSON.stringify(a.payload, null, 2)}</pre>
      </li>
    );
  if (a.type === 'sms')
    return (
      <li>
        {title} to {a.to}: <q>{a.body}</q>
      </li>
    );
  return (
    <li>
      {title} to {a.to}, subject <q>{a.subject}</q>
      {a.text && <pre>{a.text}</pre>}
      {a.html && (
        // sandbox="": no scripts, no forms, no same-origin; srcdoc: the HTML is never fetched.
        <iframe className="email-preview" sandbox="" srcDoc={a.html} title={`${title} HTML preview`} />
      )}
    </li>
  );
}

export function TestPanel({
  draft,
  sample,
}: {
  draft: RuleInput;
  sample: Record<string, unknown> | undefined;
}) {
  const eventName = 'eventName' in draft.trigger ? draft.trigger.eventName : 'schedule.tick';
  const initial = JSON.stringify({ name: eventName, payload: sample ?? {} }, null, 2);
  const [text, setText] = useState<string | null>(null);
  const [parseError, setParseError] = useState<string>();
  const run = useMutation({
    mutationFn: (event: Schemas['DryRunInput']['event']) =>
      unwrap(api.POST('/rules/test', { body: { rule: draft, event } })),
  });
  const errors = fieldErrors(run.error);

  const test = () => {
    setParseError(undefined);
    try {
      run.mutate(JSON.parse(text ?? initial) as Schemas['DryRunInput']['event']);
    } catch {
      setParseError('not valid JSON');
    }
  };
  const result = run.data;
  const problem = run.error instanceof ApiProblem ? run.error : null;
  return (
    <section className="panel" aria-labelledby="test-title">
      <h2 id="test-title">Test</h2>
      <Field
        label="Sample event"
        error={parseError ?? errors.at('event')}
        hint="The latest payload seen for this event type (masked), as {name, payload, userId?}. Nothing is sent."
      >
        <textarea
          rows={10}
          spellCheck={false}
          value={text ?? initial}
          onChange={(e) => setText(e.target.value)}
        />
      </Field>
      <button type="button" onClick={test} disabled={run.isPending}>
        Test
      </button>
      {problem && !errors.at('event') && (
        <div role="alert" className="error">
          <p>{problem.message}</p>
        </div>
      )}
      {result && (
        <div role="status" className="test-result">
          <p className={result.matched ? 'matched' : 'not-matched'}>
            <strong>{result.matched ? 'Matched' : 'Not matched'}</strong>
            {result.userFound === false && ' (the event’s user was not found)'}
          </p>
          {result.conditions.length > 0 && (
            <table>
              <caption>Conditions</caption>
              <thead>
                <tr>
                  <th scope="col">Fact and path</th>
                  <th scope="col">Operator</th>
                  <th scope="col">Value</th>
                  <th scope="col">Read</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {result.conditions.map((c, i) => (
                  <tr key={i}>
                    <td>{fieldOf(c.fact, c.path ?? undefined)}</td>
                    <td>{c.operator}</td>
                    <td>{show(c.value)}</td>
                    <td>{show(c.factValue)}</td>
                    <td>{c.result === null ? 'not needed' : c.result ? 'true' : 'false'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <SendTime result={result} delay={draft.delay} />
          <h3>Messages</h3>
          <ul className="rendered">
            {result.actions.map((a) => (
              <Rendered key={a.index} a={a} />
            ))}
          </ul>
          <Warnings warnings={result.warnings} />
        </div>
      )}
    </section>
  );
}
