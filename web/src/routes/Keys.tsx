/** API keys (POST/GET/DELETE /keys): create one (its secret is shown once), revoke one. Full keys only. */
import '../pages.css';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { useCan, useSession } from '../auth';
import { ConfirmButton } from '../components/Confirm';
import type { Column } from '../components/DataTable';
import { PagedTable, usePagedList } from '../components/PagedTable';
import { ErrorMessage, Field } from '../components/Field';
import { apiErrors } from '../forms';
import { when } from '../format';

type Key = Schemas['Key'];
type Input = Schemas['KeyInput'];
const FIELDS = ['name', 'role'] as const;

function CreateForm() {
  const queryClient = useQueryClient();
  const [d, setD] = useState<Input>({ name: '', role: 'read' });
  const create = useMutation({
    mutationFn: (body: Input) => unwrap(api.POST('/keys', { body })),
    onSuccess: async () => {
      setD({ name: '', role: d.role });
      await queryClient.invalidateQueries({ queryKey: ['keys'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(d);
  };
  const errs = apiErrors(create.error, FIELDS);
  return (
    <>
      <form className="panel inline-form" onSubmit={submit} aria-label="Create a key">
        <Field label="Key name" error={errs.on('name')}>
          <input value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} />
        </Field>
        <Field label="Role" error={errs.on('role')}>
          <select value={d.role} onChange={(e) => setD({ ...d, role: e.target.value as Input['role'] })}>
            <option value="ingest">ingest: send events only</option>
            <option value="read">read: every GET</option>
            <option value="full">full: everything</option>
          </select>
        </Field>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
        <ErrorMessage error={errs.general} />
      </form>
      {create.data && (
        <div className="panel" role="status">
          <p>
            New key “{create.data.name}” ({create.data.role}). Copy it now: it is not shown again.
          </p>
          <code className="secret" aria-label="New API key">
            {create.data.key}
          </code>
        </div>
      )}
    </>
  );
}

export default function KeysPage() {
  const can = useCan();
  const { account } = useSession();
  const queryClient = useQueryClient();
  const list = usePagedList(['keys'], (page) => unwrap(api.GET('/keys', { params: { query: page } })));
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/keys/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['keys'] }),
  });
  const columns: Column<Key>[] = [
    { header: 'Name', cell: (k) => (k.id === account?.key.id ? `${k.name} (this key)` : k.name) },
    { header: 'Role', cell: (k) => k.role, width: '6rem' },
    { header: 'Starts with', cell: (k) => (k.prefix ? `${k.prefix}…` : '—'), width: '10rem' },
    { header: 'Created', cell: (k) => when(k.createdAt), width: '11rem' },
    { header: 'Last used', cell: (k) => when(k.lastUsedAt), width: '11rem' },
  ];
  if (can.write)
    columns.push({
      header: 'Actions',
      width: '15rem',
      cell: (k) => (
        <ConfirmButton
          label="Revoke"
          question={`Revoke ${k.name}? It stops working at once.`}
          onConfirm={() => revoke.mutate(k.id)}
        />
      ),
    });
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Keys</h1>
      {can.write ? <CreateForm /> : <p>Only a key of role full can create or revoke keys.</p>}
      <ErrorMessage error={list.error ?? revoke.error} />
      <PagedTable list={list} label="API keys" columns={columns} rowKey={(k) => k.id} rowHeight={44} />
    </section>
  );
}
