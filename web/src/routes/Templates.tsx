/** Email templates (GET/PUT/DELETE /templates/:id): subject, text and HTML with {{…}} placeholders. */
import '../pages.css';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { useCan } from '../auth';
import { ConfirmButton } from '../components/Confirm';
import { EditablePage, type Editing } from '../components/EditablePage';
import type { Column } from '../components/DataTable';
import { PagedTable, usePagedList } from '../components/PagedTable';
import { ErrorMessage, Field } from '../components/Field';
import { apiErrors, orNull } from '../forms';
import { when } from '../format';

type Template = Schemas['EmailTemplate'];
const FIELDS = ['id', 'name', 'subject', 'text', 'html'] as const;
type Draft = Record<(typeof FIELDS)[number], string>;

function TemplateForm({ template, onDone }: { template: Template | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [d, setD] = useState<Draft>({
    id: template?.id ?? '',
    name: template?.name ?? '',
    subject: template?.subject ?? '',
    text: template?.text ?? '',
    html: template?.html ?? '',
  });
  const save = useMutation({
    mutationFn: ({ id, ...body }: Draft) =>
      unwrap(
        api.PUT('/templates/{id}', {
          params: { path: { id } },
          body: { name: body.name, subject: body.subject, text: orNull(body.text), html: orNull(body.html) },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['templates'] });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(d);
  };
  const errs = apiErrors(save.error, FIELDS);
  const set = (f: keyof Draft) => (e: { target: { value: string } }) => setD({ ...d, [f]: e.target.value });
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="template-form-title">
      <h2 id="template-form-title">{template ? `Edit ${template.name}` : 'New template'}</h2>
      <Field label="Template id" error={errs.on('id')} hint="The slug email actions name, e.g. job-done">
        <input value={d.id} onChange={set('id')} readOnly={template !== null} required />
      </Field>
      <Field label="Name" error={errs.on('name')}>
        <input value={d.name} onChange={set('name')} />
      </Field>
      <Field label="Subject" error={errs.on('subject')}>
        <input value={d.subject} onChange={set('subject')} />
      </Field>
      <Field label="Text" error={errs.on('text')}>
        <textarea rows={5} value={d.text} onChange={set('text')} />
      </Field>
      <Field label="HTML" error={errs.on('html')}>
        <textarea rows={7} value={d.html} onChange={set('html')} />
      </Field>
      {d.html && (
        <iframe
          className="email-preview"
          title="HTML preview (placeholders unfilled)"
          sandbox=""
          srcDoc={d.html}
        />
      )}
      <ErrorMessage error={errs.general} />
      <div className="toolbar">
        <button type="submit" disabled={save.isPending}>
          Save template
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Discard
        </button>
      </div>
    </form>
  );
}

export default function TemplatesPage() {
  const can = useCan();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Editing<Template>>(null);
  const list = usePagedList(['templates'], (page) =>
    unwrap(api.GET('/templates', { params: { query: page } })),
  );
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/templates/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['templates'] }),
  });
  const columns: Column<Template>[] = [
    { header: 'Id', cell: (t) => t.id },
    { header: 'Name', cell: (t) => t.name },
    { header: 'Subject', cell: (t) => t.subject },
    { header: 'Updated', cell: (t) => when(t.updatedAt), width: '11rem' },
    {
      header: 'Actions',
      width: can.write ? '16rem' : '7rem',
      cell: (t) => (
        <span className="row-actions">
          <button type="button" className="secondary small" onClick={() => setEditing(t)}>
            {can.write ? 'Edit' : 'View'}
            <span className="visually-hidden"> {t.id}</span>
          </button>
          {can.write && (
            <ConfirmButton
              label="Delete"
              question={`Delete template ${t.id}?`}
              onConfirm={() => remove.mutate(t.id)}
            />
          )}
        </span>
      ),
    },
  ];
  return (
    <EditablePage
      title="Templates"
      newLabel="New template"
      canWrite={can.write}
      editing={editing}
      setEditing={setEditing}
      form={(current, done) => <TemplateForm template={current} onDone={done} />}
      error={list.error ?? remove.error}
    >
      <PagedTable
        list={list}
        label="Templates"

        columns={columns}
        rowKey={(t) => t.id}
        rowHeight={44}
        empty="No templates yet."
      />
    </EditablePage>
  );
}
