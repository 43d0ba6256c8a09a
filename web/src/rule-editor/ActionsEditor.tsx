/** The rule's actions: SMS, email (inline or a stored template) and webhook, each with its recipient. */
import { Field } from '../components/Field';
import { JsonField } from '../components/JsonField';
import { factPathOf, fieldOf } from '../conditions';
import type { FieldErrors } from './errors';
import { Placeholders } from './Placeholders';

type RecipientRef =
  { source: 'fact'; fact: string; path: string } | { source: 'user'; field: 'phone' | 'email' };
type Recipient = string | RecipientRef;
export type ActionDraft =
  | { type: 'sms'; params: { recipient: Recipient; message: string } }
  | {
      type: 'email';
      params: {
        recipient: Recipient;
        templateId?: string;
        subject?: string;
        text?: string;
        html?: string;
        transactional?: boolean;
      };
    }
  | { type: 'webhook'; params: { url: string; method: 'POST' | 'PUT' | 'PATCH'; payload: unknown } };

const FRESH: Record<ActionDraft['type'], ActionDraft> = {
  sms: { type: 'sms', params: { recipient: { source: 'user', field: 'phone' }, message: '' } },
  email: { type: 'email', params: { recipient: { source: 'user', field: 'email' }, subject: '', text: '' } },
  webhook: { type: 'webhook', params: { url: '', method: 'POST', payload: {} } },
};

function RecipientEditor({
  value,
  onChange,
  error,
  index,
  kind,
}: {
  value: Recipient;
  onChange: (r: Recipient) => void;
  error?: string;
  index: number;
  kind: 'phone' | 'email';
}) {
  const source = typeof value === 'string' ? 'literal' : value.source;
  return (
    <div className="row">
      <Field label={`Recipient ${index + 1} from`}>
        <select
          value={source}
          onChange={(e) => {
            const s = e.target.value;
            onChange(
              s === 'literal'
                ? ''
                : s === 'user'
                  ? { source: 'user', field: kind }
                  : { source: 'fact', fact: '', path: '$' },
            );
          }}
        >
          <option value="user">the event’s user</option>
          <option value="fact">a fact of the event</option>
          <option value="literal">{kind === 'phone' ? 'a phone number' : 'an email address'}</option>
        </select>
      </Field>
      {typeof value === 'string' ? (
        <Field label={kind === 'phone' ? 'Phone number' : 'Email address'} error={error}>
          <input value={value} onChange={(e) => onChange(e.target.value)} />
        </Field>
      ) : value.source === 'fact' ? (
        <Field label="Recipient fact and path" error={error} hint="e.g. job.client.phone">
          <input
            list="condition-fields"
            value={value.fact ? fieldOf(value.fact, value.path) : ''}
            onChange={(e) => {
              const { fact, path } = factPathOf(e.target.value);
              onChange({ source: 'fact', fact, path: path ?? '$' });
            }}
          />
        </Field>
      ) : (
        <Field label="User field" error={error}>
          <select
            value={value.field}
            onChange={(e) => onChange({ source: 'user', field: e.target.value as 'phone' | 'email' })}
          >
            <option value="phone">phone</option>
            <option value="email">email</option>
          </select>
        </Field>
      )}
    </div>
  );
}

export function ActionsEditor({
  actions,
  onChange,
  errors,
  placeholders,
  templates,
}: {
  actions: ActionDraft[];
  onChange: (a: ActionDraft[]) => void;
  errors: FieldErrors;
  placeholders: string[];
  templates: { id: string; name: string }[];
}) {
  const update = (i: number, a: ActionDraft) => onChange(actions.map((x, j) => (j === i ? a : x)));
  return (
    <fieldset>
      <legend>Actions</legend>
      {actions.map((a, i) => {
        const at = (f: string) => errors.at(`actions[${i}].params.${f}`);
        const set = (patch: Record<string, unknown>) =>
          update(i, { ...a, params: { ...a.params, ...patch } } as ActionDraft);
        return (
          <div className="panel action" key={i}>
            <div className="row">
              <Field label={`Action ${i + 1} type`} error={errors.at(`actions[${i}].type`)}>
                <select
                  value={a.type}
                  onChange={(e) => update(i, FRESH[e.target.value as ActionDraft['type']])}
                >
                  <option value="sms">SMS</option>
                  <option value="email">Email</option>
                  <option value="webhook">Webhook</option>
                </select>
              </Field>
              <button
                type="button"
                className="secondary"
                disabled={actions.length === 1}
                onClick={() => onChange(actions.filter((_, j) => j !== i))}
              >
                Remove action {i + 1}
              </button>
            </div>
            {a.type === 'sms' && (
              <>
                <RecipientEditor
                  index={i}
                  kind="phone"
                  value={a.params.recipient}
                  error={at('recipient')}
                  onChange={(recipient) => set({ recipient })}
                />
                <Field label="Message" error={at('message')}>
                  <textarea
                    rows={3}
                    value={a.params.message}
                    onChange={(e) => set({ message: e.target.value })}
                  />
                </Field>
                <Placeholders
                  label="the message"
                  names={placeholders}
                  onInsert={(p) => set({ message: a.params.message + p })}
                />
              </>
            )}
            {a.type === 'email' && (
              <>
                <RecipientEditor
                  index={i}
                  kind="email"
                  value={a.params.recipient}
                  error={at('recipient')}
                  onChange={(recipient) => set({ recipient })}
                />
                <Field
                  label="Template"
                  error={at('templateId')}
                  hint="Inline parts below override the template’s."
                >
                  <select
                    value={a.params.templateId ?? ''}
                    onChange={(e) => set({ templateId: e.target.value || undefined })}
                  >
                    <option value="">(none: inline only)</option>
                    {templates.map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.name} ({t.id})
                      </option>
                    ))}
                  </select>
                </Field>
                {(['subject', 'text', 'html'] as const).map((part) => (
                  <div key={part}>
                    <Field
                      label={{ subject: 'Subject', text: 'Text body', html: 'HTML body' }[part]}
                      error={at(part)}
                    >
                      {part === 'subject' ? (
                        <input
                          value={a.params.subject ?? ''}
                          onChange={(e) => set({ subject: e.target.value || undefined })}
                        />
                      ) : (
                        <textarea
                          rows={4}
                          value={a.params[part] ?? ''}
                          onChange={(e) => set({ [part]: e.target.value || undefined })}
                        />
                      )}
                    </Field>
                    <Placeholders
                      label={`the ${part}`}
                      names={placeholders}
                      onInsert={(p) => set({ [part]: (a.params[part] ?? '') + p })}
                    />
                  </div>
                ))}
                <label className="check">
                  <input
                    type="checkbox"
                    checked={a.params.transactional ?? false}
                    onChange={(e) => set({ transactional: e.target.checked || undefined })}
                  />{' '}
                  Transactional (a receipt the recipient asked for: no unsubscribe, no suppression check)
                </label>
              </>
            )}
            {a.type === 'webhook' && (
              <>
                <div className="row">
                  <Field label="Webhook URL" error={at('url')}>
                    <input type="url" value={a.params.url} onChange={(e) => set({ url: e.target.value })} />
                  </Field>
                  <Field label="Method" error={at('method')}>
                    <select value={a.params.method} onChange={(e) => set({ method: e.target.value })}>
                      <option>POST</option>
                      <option>PUT</option>
                      <option>PATCH</option>
                    </select>
                  </Field>
                </div>
                <JsonField
                  label="Payload (JSON; every string is a template)"
                  value={a.params.payload}
                  error={at('payload')}
                  onChange={(payload) => set({ payload })}
                />
              </>
            )}
          </div>
        );
      })}
      <button
        type="button"
        className="secondary"
        disabled={actions.length >= 10}
        onClick={() => onChange([...actions, FRESH.sms])}
      >
        Add action
      </button>
    </fieldset>
  );
}
