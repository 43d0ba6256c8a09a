/** The catalogue's placeholders for a template field: each button adds one at the end of the text. */
export function Placeholders({
  names,
  onInsert,
  label,
}: {
  names: string[];
  onInsert: (placeholder: string) => void;
  label: string;
}) {
  if (!names.length) return null;
  return (
    <details className="placeholders">
      <summary>Placeholders for {label}</summary>
      <div className="placeholder-list">
        {names.map((n) => (
          <button type="button" key={n} className="secondary" onClick={() => onInsert(n)}>
            {n}
          </button>
        ))}
      </div>
    </details>
  );
}
