/** Users (GET/POST/PATCH/DELETE /users): the people events name, with their contact fields and attributes. */
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

type User = Schemas['User'];
const FIELDS = ['externalId', 'name', 'email', 'phone', 'timezone', 'attributes'] as const;
type Draft = Record<(typeof FIELDS)[number], string>;

const draftOf = (u: User | null): Draft => ({
  externalId: u?.externalId ?? '',
  name: u?.name ?? '',
  email: u?.email ?? '',
  phone: u?.phone ?? '',
  timezone: u?.timezone ?? '',
  attributes: JSON.stringify(u?.attributes ?? {}, null, 2),
});

function UserForm({ user, onDone }: { user: User | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [d, setD] = useState<Draft>(() => draftOf(user));
  const [jsonError, setJsonError] = useState<string>();
  const save = useMutation({
    mutationFn: (body: Schemas['UserPatch']) =>
      user
        ? unwrap(api.PATCH('/users/{id}', { params: { path: { id: user.id } }, body }))
        : unwrap(api.POST('/users', { body: body as Schemas['UserInput'] })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['users'] });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    let attributes: Record<string, unknown>;
    try {
      attributes = d.attributes.trim() ? (JSON.parse(d.attributes) as Record<string, unknown>) : {};
    } catch {
      setJsonError('must be JSON, e.g. {"plan": "gold"}');
      return;
    }
    setJsonError(undefined);
    save.mutate({
      externalId: orNull(d.externalId),
      name: orNull(d.name),
      email: orNull(d.email),
      phone: orNull(d.phone),
      timezone: orNull(d.timezone),
      attributes,
    });
  };
  const errs = apiErrors(save.error, FIELDS);
  const input = (f: keyof Draft, label: string, type = 'text') => (
    <Field label={label} error={errs.on(f)}>
      <input type={type} value={d[f]} onChange={(e) => setD({ ...d, [f]: e.target.value })} />
    </Field>
  );
  // noValidate: the API validates (the browser's own email check would hide the API's message).
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="user-form-title" noValidate>
      <h2 id="user-form-title">{user ? `Edit ${user.name ?? user.id}` : 'New user'}</h2>
      {input('name', 'Name')}
      {input('externalId', 'External id')}
      {input('email', 'Email', 'email')}
      {input('phone', 'Phone', 'tel')}
      {input('timezone', 'Time zone')}
      <Field
        label="Attributes"
        error={jsonError ?? errs.on('attributes')}
        hint="JSON object, readable as {{user.attributes.x}}"
      >
        <textarea
          rows={4}
          value={d.attributes}
          onChange={(e) => setD({ ...d, attributes: e.target.value })}
        />
      </Field>
      <ErrorMessage error={errs.general} />
      <div className="toolbar">
        <button type="submit" disabled={save.isPending}>
          Save user
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Discard
        </button>
      </div>
    </form>
  );
}

export default function UsersPage() {
  const can = useCan();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Editing<User>>(null);
  const list = usePagedList(['users'], (page) => unwrap(api.GET('/users', { params: { query: page } })));
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/users/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
  const columns: Column<User>[] = [
    { header: 'Name', cell: (u) => u.name ?? '—' },
    { header: 'External id', cell: (u) => u.externalId ?? '—' },
    { header: 'Email', cell: (u) => u.email ?? '—' },
    { header: 'Phone', cell: (u) => u.phone ?? '—', width: '10rem' },
    { header: 'Time zone', cell: (u) => u.timezone ?? '—', width: '10rem' },
    { header: 'Updated', cell: (u) => when(u.updatedAt), width: '11rem' },
  ];
  if (can.write)
    columns.push({
      header: 'Actions',
      width: '16rem',
      cell: (u) => (
        <span className="row-actions">
          <button type="button" className="secondary small" onClick={() => setEditing(u)}>
            Edit<span className="visually-hidden"> {u.name ?? u.id}</span>
          </button>
          <ConfirmButton
            label="Delete"
            question={`Delete ${u.name ?? u.id}?`}
            onConfirm={() => remove.mutate(u.id)}
          />
        </span>
      ),
    });
  return (
    <EditablePage
      title="Users"
      newLabel="New user"
      canWrite={can.write}
      editing={editing}
      setEditing={setEditing}
      form={(current, done) => <UserForm user={current} onDone={done} />}
      error={list.error ?? remove.error}
    >
      <PagedTable
        list={list}
        label="Users"

        columns={columns}
        rowKey={(u) => u.id}
        rowHeight={44}
        empty="No users yet."
      />
    </EditablePage>
  );
}
