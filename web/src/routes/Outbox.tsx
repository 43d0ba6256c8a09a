/**
 * The outbox (GET /outbox): messages of channels that are not configured, as the runs rendered them.
 * Email HTML is previewed in `<iframe sandbox="" srcdoc>`: no scripts, an opaque origin.
 */
import '../pages.css';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, unwrap } from '../api/client';
import type { GetOk } from '../api/types';
import type { Column } from '../components/DataTable';
import { PagedTable, usePagedList } from '../components/PagedTable';
import { ErrorMessage, Field } from '../components/Field';
import { when } from '../format';

type Message = GetOk<'/outbox'>['items'][number];
type Channel = Message['channel'];

function MessageView({ m, onClose }: { m: Message; onClose: () => void }) {
  return (
    <section className="panel" aria-labelledby="message-title">
      <h2 id="message-title">
        {m.channel} to {m.recipient}
      </h2>
      <dl className="facts">
        <dt>Created</dt>
        <dd>{when(m.createdAt)}</dd>
        <dt>Run</dt>
        <dd>
          <Link href={`/runs/${encodeURIComponent(m.workflowId)}`}>{m.workflowId}</Link>
        </dd>
        {m.subject !== null && (
          <>
            <dt>Subject</dt>
            <dd>{m.subject}</dd>
          </>
        )}
      </dl>
      {m.body !== null && (
        <>
          <h3>{m.channel === 'email' ? 'Text part' : 'Text'}</h3>
          <pre className="message-body">{m.body}</pre>
        </>
      )}
      {m.html !== null && (
        <>
          <h3>HTML part</h3>
          <iframe className="email-preview" title={`Email to ${m.recipient}`} sandbox="" srcDoc={m.html} />
        </>
      )}
      {m.channel === 'webhook' && (
        <>
          <h3>Payload</h3>
          <pre className="message-body">{JSON.stringify(m.payload, null, 2)}</pre>
        </>
      )}
      <button type="button" className="secondary" onClick={onClose}>
        Close message
      </button>
    </section>
  );
}

export default function OutboxPage() {
  const [channel, setChannel] = useState<Channel | ''>('');
  const [open, setOpen] = useState<Message | null>(null);
  const list = usePagedList(['outbox', channel], (page) =>
    unwrap(api.GET('/outbox', { params: { query: { ...page, ...(channel && { channel }) } } })),
  );
  const columns: Column<Message>[] = [
    { header: 'Created', cell: (m) => when(m.createdAt), width: '11rem' },
    { header: 'Channel', cell: (m) => m.channel, width: '6rem' },
    { header: 'Recipient', cell: (m) => m.recipient },
    { header: 'Subject or text', cell: (m) => m.subject ?? m.body ?? '—' },
    {
      header: 'Message',
      cell: (m) => (
        <button type="button" className="secondary small" onClick={() => setOpen(m)}>
          View<span className="visually-hidden"> message to {m.recipient}</span>
        </button>
      ),
      width: '7rem',
    },
  ];
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Outbox</h1>
      <p>
        Messages of channels that are not configured (no SMTP_URL, no Twilio), as they would have been sent.
      </p>
      <div className="toolbar">
        <Field label="Channel">
          <select value={channel} onChange={(e) => setChannel(e.target.value as Channel | '')}>
            <option value="">All channels</option>
            <option value="email">email</option>
            <option value="sms">sms</option>
            <option value="webhook">webhook</option>
          </select>
        </Field>
      </div>
      <ErrorMessage error={list.error} />
      {open && <MessageView m={open} onClose={() => setOpen(null)} />}
      <PagedTable
        list={list}
        label="Outbox messages"
        columns={columns}
        rowKey={(m) => m.id}
        empty="The outbox is empty."
      />
    </section>
  );
}
