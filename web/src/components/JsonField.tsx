/**
 * A JSON value typed as text. Text that is not JSON is passed on as the string it is: the API then
 * says what is wrong with it, on this field (the app never re-implements the API's validation).
 */
import { useState, type ReactNode } from 'react';
import { Field } from './Field';

export function JsonField({
  label,
  value,
  onChange,
  error,
  hint,
  rows = 5,
  optional = false,
}: {
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  error?: string;
  hint?: ReactNode;
  rows?: number;
  /** Empty text is no value (undefined) rather than an error. */
  optional?: boolean;
}) {
  const [text, setText] = useState(() =>
    value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value, null, 2),
  );
  return (
    <Field label={label} error={error} hint={hint}>
      <textarea
        rows={rows}
        value={text}
        spellCheck={false}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (optional && !t.trim()) return onChange(undefined);
          try {
            onChange(JSON.parse(t));
          } catch {
            onChange(t);
          }
        }}
      />
    </Field>
  );
}
