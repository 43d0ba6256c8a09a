/**
 * A table that renders only the rows in view (fixed row height), so 500+ rows scroll without jank.
 * It stays a real <table>: spacer rows keep the scroll height, aria-rowcount/aria-rowindex tell
 * assistive technology where the visible rows sit.
 */
import { useState, type ReactNode, type UIEvent } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** CSS width, e.g. '8rem' or '20%'. */
  width?: string;
}

const OVERSCAN = 8;

export function DataTable<T>({
  label,
  rows,
  columns,
  rowKey,
  rowHeight = 40,
  height = 560,
  empty = 'Nothing here yet.',
}: {
  label: string;
  rows: readonly T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  rowHeight?: number;
  height?: number;
  empty?: ReactNode;
}) {
  const [scrollTop, setScrollTop] = useState(0);
  if (rows.length === 0) return <p className="empty">{empty}</p>;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const onScroll = (e: UIEvent<HTMLDivElement>) => setScrollTop(e.currentTarget.scrollTop);
  return (
    // Focusable so keyboard users can scroll it (axe: scrollable-region-focusable).
    <div
      className="table-scroll"
      style={{ maxHeight: height }}
      onScroll={onScroll}
      tabIndex={0}
      role="region"
      aria-label={label}
    >
      <table aria-rowcount={rows.length + 1}>
        <thead>
          <tr aria-rowindex={1}>
            {columns.map((c) => (
              <th key={c.header} scope="col" style={c.width ? { width: c.width } : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 && <tr aria-hidden="true" style={{ height: first * rowHeight }} />}
          {rows.slice(first, last).map((row, i) => (
            <tr key={rowKey(row)} aria-rowindex={first + i + 2} style={{ height: rowHeight }}>
              {columns.map((c) => (
                <td key={c.header}>{c.cell(row)}</td>
              ))}
            </tr>
          ))}
          {last < rows.length && (
            <tr aria-hidden="true" style={{ height: (rows.length - last) * rowHeight }} />
          )}
        </tbody>
      </table>
    </div>
  );
}
