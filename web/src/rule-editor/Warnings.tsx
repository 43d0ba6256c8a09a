/** The API's warnings: valid but probably wrong (an unknown path, a placeholder the events never have). */
import type { Warning } from '../rules';

export function Warnings({ warnings, title = 'Warnings' }: { warnings: Warning[]; title?: string }) {
  if (!warnings.length) return null;
  return (
    <div className="warnings">
      <h3>{title}</h3>
      <ul>
        {warnings.map((w, i) => (
          <li key={i}>
            <code>{w.path}</code>: {w.message}
            {w.suggestion && (
              <>
                {' '}
                (did you mean <code>{w.suggestion}</code>?)
              </>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
