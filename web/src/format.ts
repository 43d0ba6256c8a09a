/** Display formats shared by the pages: times in the browser's locale, durations in words. */

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (abs < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (abs < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

/** A value of any JSON shape, short, as text (React renders it as text, never as HTML). */
export function show(value: unknown): string {
  if (value === undefined) return '—';
  const s = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value ?? null);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

/** `<input type="datetime-local">` value ↔ ISO instant. */
export const toLocalInput = (iso: string | null) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
export const fromLocalInput = (local: string) => (local ? new Date(local).toISOString() : '');
