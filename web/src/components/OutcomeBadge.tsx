/** A run's outcome as text (the word itself, so it reads without colour), with its colour as a hint. */
export function OutcomeBadge({ outcome, status }: { outcome: string | null; status?: string }) {
  const text = outcome ?? (status === 'running' ? 'running' : (status ?? '—'));
  return <span className={`badge outcome-${text}`}>{text}</span>;
}
