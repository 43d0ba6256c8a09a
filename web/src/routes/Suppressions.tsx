/** Suppressions (GET/POST/DELETE /suppressions): addresses that get no messages on a channel. */
import '../pages.css';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { useCan } from '../auth';
import { ConfirmButton } from '../components/Confirm';
import type { Column } from '../components/DataTable';
import { PagedTable, usePagedList } from '../components/PagedTable';
import { ErrorMessage, Field } from '../components/Field';
import { apiErrors, orNull } from '../forms';
import { when } from '../format';

type Suppression = Schemas['Suppression'];
type Input = Schemas['SuppressionInput'];
const FIELDS = ['channel', 'address', 'reason'] as const;

function AddForm() {
  const queryClient = useQueryClient();
  const [d, setD] = useState({ channel: 'email' as Input['channel'], address: '', reason: '' });
  const add = useMutation({
    mutationFn: (body: Input) => unwrap(api.POST('/suppressions', { body })),
    onSuccess: async () => {
      setD({ ...d, address: '', reason: '' });
      await queryClient.invalidateQueries({ queryKey: ['suppressions'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate({ channel: d.channel, address: d.address, reason: orNull(d.reason) });
  };
  const errs = apiErrors(add.error, FIELDS);
  return (
    <form className="panel inline-form" onSubmit={submit} aria-label="Add a suppression">
      <Field label="Channel" error={errs.on('channel')}>
        <select
          value={d.channel}
          onChange={(e) => setD({ ...d, channel: e.target.value as Input['channel'] })}
        >
          <option value="email">email</option>
          <option value="sms">sms</option>
        </select>
      </Field>
      <Field label="Address" error={errs.on('address')}>
        <input value={d.address} onChange={(e) => setD({ ...d, address: e.target.value })} />
      </Field>
      <Field label="Reason" error={errs.on('reason')}>
        <input value={d.reason} onChange={(e) => setD({ ...d, reason: e.target.value })} />
      </Field>
      <button type="submit" disabled={add.isPending}>
        Add suppression
      </button>
      <ErrorMessage error={errs.general} />
    </form>
  );
}

export default function SuppressionsPage() {
  const can = useCan();
  const queryClient = useQueryClient();
  const list = usePagedList(['suppressions'], (page) =>
    unwrap(api.GET('/suppressions', { params: { query: page } })),
  );
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/suppressions/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['suppressions'] }),
  });
  const columns: Column<Suppression>[] = [
    { header: 'Channel', cell: (s) => s.channel, width: '6rem' },
    { header: 'Address', cell: (s) => s.address },
    { header: 'Reason', cell: (s) => s.reason ?? '—' },
    { header: 'Source', cell: (s) => s.source, width: '8rem' },
    { header: 'Added', cell: (s) => when(s.createdAt), width: '11rem' },
  ];
  if (can.write)
    columns.push({
      header: 'Actions',
      width: '14rem',
      cell: (s) => (
        <ConfirmButton
          label="Remove"
          question={`Send to ${s.address} again?`}
          onConfirm={() => remove.mutate(s.id)}
        />
      ),
    });
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Suppressions</h1>
      <p>
        Addresses that get no messages on a channel: opted out by STOP, an unsubscribe link, or added here.
      </p>
      {can.write && <AddForm />}
      <ErrorMessage error={list.error ?? remove.error} />
      <PagedTable
        list={list}
        label="Suppressions"

        columns={columns}
        rowKey={(s) => s.id}
        rowHeight={44}
        empty="Nobody is suppressed."
      />
    </section>
  );
}
