/** The rule's own fields: name, description, trigger (event or schedule, key/updateOn/cancelOn), delay, window. */
import { Suspense, type ComponentProps } from 'react';
import { Field } from '../components/Field';
import { factPathOf, fieldOf, type ConditionTree } from '../conditions';
import type { RuleInput } from '../rules';
import type { FieldErrors } from './errors';
import { ConditionsEditor } from './LazyConditionsEditor';

const UNITS = ['seconds', 'minutes', 'hours', 'days'] as const;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Unit = (typeof UNITS)[number];
type Trigger = RuleInput['trigger'];
type EventTrigger = Extract<Trigger, { eventName: string }>;
type Delay = RuleInput['delay'];
type Window = NonNullable<RuleInput['window']>;
type Fields = { name: string; label: string }[];

const isEmpty = (tree: ConditionTree) =>
  ('all' in tree && tree.all.length === 0) || ('any' in tree && tree.any.length === 0);

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Takes the id and aria props Field gives its control. */
function UnitSelect({
  value,
  onChange,
  ...control
}: { value: Unit; onChange: (u: Unit) => void } & Omit<ComponentProps<'select'>, 'value' | 'onChange'>) {
  return (
    <select {...control} value={value} onChange={(e) => onChange(e.target.value as Unit)}>
      {UNITS.map((u) => (
        <option key={u}>{u}</option>
      ))}
    </select>
  );
}

function TriggerFields({
  trigger,
  onChange,
  errors,
  eventNames,
  fields,
}: {
  trigger: Trigger;
  onChange: (t: Trigger) => void;
  errors: FieldErrors;
  eventNames: string[];
  fields: Fields;
}) {
  const scheduled = 'schedule' in trigger;
  const ev = trigger as EventTrigger;
  const setEv = (patch: Partial<EventTrigger>) => {
    const next = { ...ev, ...patch } as Record<string, unknown>;
    for (const k of ['key', 'updateOn', 'cancelOn']) if (next[k] === undefined) delete next[k];
    onChange(next as Trigger);
  };
  return (
    <fieldset>
      <legend>Trigger</legend>
      <Field label="Runs on">
        <select
          value={scheduled ? 'schedule' : 'event'}
          onChange={(e) =>
            onChange(
              e.target.value === 'schedule'
                ? { schedule: { cron: '0 9 * * MON', timezone: 'UTC' } }
                : { eventName: '' },
            )
          }
        >
          <option value="event">an event</option>
          <option value="schedule">a schedule (over the account’s users)</option>
        </select>
      </Field>
      {scheduled ? (
        <div className="row">
          <Field label="Cron" error={errors.at('trigger.schedule.cron')} hint="minute hour day month weekday">
            <input
              value={trigger.schedule.cron}
              onChange={(e) => onChange({ schedule: { ...trigger.schedule, cron: e.target.value } })}
            />
          </Field>
          <Field label="Schedule timezone" error={errors.at('trigger.schedule.timezone')}>
            <input
              value={trigger.schedule.timezone}
              onChange={(e) => onChange({ schedule: { ...trigger.schedule, timezone: e.target.value } })}
            />
          </Field>
        </div>
      ) : (
        <>
          <datalist id="event-names">
            {eventNames.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          <Field label="Event name" error={errors.at('trigger.eventName')}>
            <input
              list="event-names"
              value={ev.eventName}
              spellCheck={false}
              onChange={(e) => setEv({ eventName: e.target.value })}
            />
          </Field>
          <Field
            label="Key (one pending run per value)"
            error={errors.at('trigger.key')}
            hint="A fact and path such as job.id; empty: every event starts its own run."
          >
            <input
              list="condition-fields"
              value={ev.key ? fieldOf(ev.key.fact, ev.key.path) : ''}
              spellCheck={false}
              onChange={(e) => {
                const { fact, path } = factPathOf(e.target.value);
                setEv({ key: e.target.value ? { fact, path: path ?? '$' } : undefined });
              }}
            />
          </Field>
          <Field label="Update on (event names, comma-separated)" error={errors.at('trigger.updateOn')}>
            <input
              value={(ev.updateOn ?? []).join(', ')}
              onChange={(e) =>
                setEv({ updateOn: list(e.target.value).length ? list(e.target.value) : undefined })
              }
            />
          </Field>
          <Field
            label="Cancel on (event names, comma-separated)"
            error={errors.at('trigger.cancelOn')}
            hint="Each can have conditions on the cancelling event, below."
          >
            <input
              value={(ev.cancelOn ?? []).map((c) => c.eventName).join(', ')}
              onChange={(e) => {
                const names = list(e.target.value);
                const kept = new Map((ev.cancelOn ?? []).map((c) => [c.eventName, c]));
                setEv({
                  cancelOn: names.length ? names.map((n) => kept.get(n) ?? { eventName: n }) : undefined,
                });
              }}
            />
          </Field>
          {(ev.cancelOn ?? []).map((c, i) => (
            <fieldset key={c.eventName}>
              <legend>Cancel on {c.eventName} only if (none: always)</legend>
              <Suspense fallback={<p className="loading">Loading the condition editor…</p>}>
                <ConditionsEditor
                  scope={`Cancel on ${c.eventName}`}
                  initial={(c.conditions as ConditionTree | undefined) ?? { all: [] }}
                  fields={fields}
                  onChange={(tree) =>
                    setEv({
                      cancelOn: ev.cancelOn!.map((x, j) =>
                        j === i
                          ? ({
                              eventName: x.eventName,
                              ...(!isEmpty(tree) && { conditions: tree }),
                            } as typeof x)
                          : x,
                      ),
                    })
                  }
                />
              </Suspense>
              {errors.at(`trigger.cancelOn[${i}].conditions`) && (
                <p className="field-error">{errors.at(`trigger.cancelOn[${i}].conditions`)}</p>
              )}
            </fieldset>
          ))}
        </>
      )}
    </fieldset>
  );
}

function DelayFields({
  delay,
  onChange,
  errors,
}: {
  delay: Delay;
  onChange: (d: Delay) => void;
  errors: FieldErrors;
}) {
  const until = 'until' in delay;
  return (
    <fieldset>
      <legend>Delay</legend>
      <Field label="Send">
        <select
          value={until ? 'until' : 'after'}
          onChange={(e) =>
            onChange(
              e.target.value === 'until'
                ? {
                    until: { fact: 'job', path: '$.scheduledAt' },
                    offset: { value: -24, unit: 'hours' },
                    ifPast: 'skip',
                  }
                : { value: 0, unit: 'minutes' },
            )
          }
        >
          <option value="after">after a delay from the event</option>
          <option value="until">relative to a date in the event</option>
        </select>
      </Field>
      {'until' in delay ? (
        <div className="row">
          <Field
            label="Date (fact and path)"
            error={errors.at('delay.until')}
            hint="ISO 8601 with an offset, e.g. job.scheduledAt"
          >
            <input
              list="condition-fields"
              value={fieldOf(delay.until.fact, delay.until.path)}
              onChange={(e) => {
                const { fact, path } = factPathOf(e.target.value);
                onChange({ ...delay, until: { fact, path: path ?? '$' } });
              }}
            />
          </Field>
          <Field label="Offset (negative: before)" error={errors.at('delay.offset')}>
            <input
              type="number"
              value={delay.offset?.value ?? 0}
              onChange={(e) =>
                onChange({
                  ...delay,
                  offset: { unit: delay.offset?.unit ?? 'hours', value: Number(e.target.value) },
                })
              }
            />
          </Field>
          <Field label="Offset unit">
            <UnitSelect
              value={delay.offset?.unit ?? 'hours'}
              onChange={(unit) => onChange({ ...delay, offset: { value: delay.offset?.value ?? 0, unit } })}
            />
          </Field>
          <Field label="If the time has passed" error={errors.at('delay.ifPast')}>
            <select
              value={delay.ifPast ?? 'skip'}
              onChange={(e) => onChange({ ...delay, ifPast: e.target.value as 'skip' | 'sendNow' })}
            >
              <option value="skip">skip the run</option>
              <option value="sendNow">send at once</option>
            </select>
          </Field>
        </div>
      ) : (
        <div className="row">
          <Field label="Delay" error={errors.at('delay.value') ?? errors.at('delay')}>
            <input
              type="number"
              min={0}
              value={delay.value}
              onChange={(e) => onChange({ ...delay, value: Number(e.target.value) })}
            />
          </Field>
          <Field label="Delay unit" error={errors.at('delay.unit')}>
            <UnitSelect value={delay.unit} onChange={(unit) => onChange({ ...delay, unit })} />
          </Field>
        </div>
      )}
    </fieldset>
  );
}

function WindowFields({
  window: w,
  onChange,
  errors,
}: {
  window: RuleInput['window'];
  onChange: (w: RuleInput['window']) => void;
  errors: FieldErrors;
}) {
  const set = (patch: Partial<Window>) => onChange({ ...(w as Window), ...patch });
  return (
    <fieldset>
      <legend>Send window</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={Boolean(w)}
          onChange={(e) =>
            onChange(
              e.target.checked ? { days: [...DAYS], start: '08:00', end: '20:00', timezone: 'user' } : null,
            )
          }
        />{' '}
        Only send inside a window
      </label>
      {w && (
        <>
          <fieldset className="days">
            <legend>Days</legend>
            {DAYS.map((d) => (
              <label key={d} className="check">
                <input
                  type="checkbox"
                  checked={(w.days ?? DAYS).includes(d)}
                  onChange={(e) => {
                    const days = new Set(w.days ?? DAYS);
                    if (e.target.checked) days.add(d);
                    else days.delete(d);
                    set({ days: DAYS.filter((x) => days.has(x)) });
                  }}
                />{' '}
                {d}
              </label>
            ))}
          </fieldset>
          {errors.at('window.days') && <p className="field-error">{errors.at('window.days')}</p>}
          <div className="row">
            <Field label="Opens" error={errors.at('window.start')}>
              <input type="time" value={w.start} onChange={(e) => set({ start: e.target.value })} />
            </Field>
            <Field label="Closes" error={errors.at('window.end')}>
              <input type="time" value={w.end} onChange={(e) => set({ end: e.target.value })} />
            </Field>
            <Field label="Window timezone" error={errors.at('window.timezone')} hint="user, or an IANA name">
              <input value={w.timezone ?? 'user'} onChange={(e) => set({ timezone: e.target.value })} />
            </Field>
          </div>
        </>
      )}
    </fieldset>
  );
}

export function RuleFields({
  draft,
  onChange,
  errors,
  eventNames,
  fields,
}: {
  draft: RuleInput;
  onChange: (patch: Partial<RuleInput>) => void;
  errors: FieldErrors;
  eventNames: string[];
  /** Facts and paths the condition editors offer. */
  fields: Fields;
}) {
  return (
    <>
      <Field label="Name" error={errors.at('name')}>
        <input value={draft.name} onChange={(e) => onChange({ name: e.target.value })} />
      </Field>
      <Field label="Description" error={errors.at('description')}>
        <textarea
          rows={2}
          value={draft.description ?? ''}
          onChange={(e) => onChange({ description: e.target.value || null })}
        />
      </Field>
      <TriggerFields
        trigger={draft.trigger}
        onChange={(trigger) => onChange({ trigger })}
        errors={errors}
        eventNames={eventNames}
        fields={fields}
      />
      <DelayFields delay={draft.delay} onChange={(delay) => onChange({ delay })} errors={errors} />
      <WindowFields window={draft.window} onChange={(window) => onChange({ window })} errors={errors} />
    </>
  );
}

/** Paths the fields above (and the actions editor) show; anything else is listed beside Save. */
export const SHOWN_PATHS =
  /^(name|description|trigger(\.|$)|delay(\.|$)|window(\.|$)|actions\[\d+\]\.(type|params\.(recipient|message|templateId|subject|text|html|url|method|payload)))/;
