/**
 * A page of one kind of object that is edited in place (users, templates): the title, a "New …"
 * button for a key that may write, the form of the one being edited (or of a new one), any error, and
 * the list below.
 */
import { Fragment, type ReactNode } from 'react';
import { ErrorMessage } from './Field';

export type Editing<T> = T | 'new' | null;

export function EditablePage<T extends { id: string }>({
  title,
  newLabel,
  canWrite,
  editing,
  setEditing,
  form,
  error,
  children,
}: {
  title: string;
  newLabel: string;
  canWrite: boolean;
  editing: Editing<T>;
  setEditing: (e: Editing<T>) => void;
  /** The form for `current` (null: a new one); `done` closes it. */
  form: (current: T | null, done: () => void) => ReactNode;
  error: unknown;
  children: ReactNode;
}) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{title}</h1>
      {canWrite && !editing && (
        <div className="toolbar">
          <button type="button" onClick={() => setEditing('new')}>
            {newLabel}
          </button>
        </div>
      )}
      {editing && (
        // Keyed by what is edited, so switching objects starts the form afresh.
        <Fragment key={editing === 'new' ? 'new' : editing.id}>
          {form(editing === 'new' ? null : editing, () => setEditing(null))}
        </Fragment>
      )}
      <ErrorMessage error={error} />
      {children}
    </section>
  );
}
