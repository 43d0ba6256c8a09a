/**
 * A button that asks before it acts: the first click shows the question with "Yes" and "No" in place
 * (keyboard focus moves to them), so nothing destructive happens on a single stray click.
 */
import { useEffect, useRef, useState } from 'react';

export function ConfirmButton({
  label,
  question,
  confirmLabel = `Yes, ${label.toLowerCase()}`,
  onConfirm,
  disabled,
  danger = true,
}: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm: () => unknown;
  disabled?: boolean;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button
        type="button"
        className={danger ? 'danger' : undefined}
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  return (
    <span role="group" aria-label={question} className="confirm">
      <span>{question}</span>
      <button
        ref={yes}
        type="button"
        className={danger ? 'danger' : undefined}
        onClick={() => {
          setAsking(false);
          void onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="secondary" onClick={() => setAsking(false)}>
        No
      </button>
    </span>
  );
}
