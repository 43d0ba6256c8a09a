/**
 * The event catalogue: per account and event name, the payload shapes ingest has seen (paths, JSON
 * types, a masked example, first/last seen, a count).
 *
 * Cheap on the hot path: `observe()` is synchronous and O(payload size) (bounded by shape.ts), and only
 * aggregates in memory; a timer flushes the aggregate every FLUSH_MS, merging it into `event_types`
 * with one locked read-modify-write per event type (so several API processes add up). Reads flush
 * first, so this process's own events are always visible to it.
 *
 * Memory bound: at most MAX_PENDING_TYPES event types wait for a flush (an event of a further type is
 * not recorded until the next flush), each with at most MAX_PATHS paths of at most MAX_PATH_CHARS
 * characters and an example of at most MAX_EXAMPLE_CHARS: 256 × 200 × ~0.5 KB ≈ 25 MB at the very worst,
 * a few KB per event type in practice.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from '../../logger';
import { walkPayload, type PathShape } from './shape';

export const FLUSH_MS = 2000;
export const MAX_PATHS = 200;
export const MAX_PENDING_TYPES = 256;

export interface EventTypeSummary {
  name: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  pathCount: number;
  /** Some paths were not recorded: the type has more than MAX_PATHS. */
  truncated: boolean;
}
export interface EventTypeDetail extends EventTypeSummary {
  paths: PathShape[];
}

interface Aggregate {
  accountId: string;
  name: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  paths: Map<string, PathShape>;
  truncated: boolean;
}

type StoredPaths = Record<string, PathShape>;

/** Adds `shape` under `key`, keeping at most MAX_PATHS; false when it did not fit. */
function addPath(paths: Map<string, PathShape>, key: string, shape: PathShape): boolean {
  const known = paths.get(key);
  if (known) {
    for (const t of shape.types) if (!known.types.includes(t)) known.types.push(t);
    if (shape.example !== null || known.example === null) known.example = shape.example;
    return true;
  }
  if (paths.size >= MAX_PATHS) return false;
  paths.set(key, { ...shape, types: [...shape.types] });
  return true;
}

const keyOf = (accountId: string, name: string) => `${accountId}\u0000${name}`;

const instances = new WeakMap<DataSource, EventCatalogue>();

/** The process's catalogue for a database: ingest, the event-types routes and rule warnings share it. */
export function catalogueOf(db: DataSource, log: Logger): EventCatalogue {
  let c = instances.get(db);
  if (!c) instances.set(db, (c = new EventCatalogue(db, log)));
  return c;
}

export class EventCatalogue {
  private pending = new Map<string, Aggregate>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DataSource,
    private readonly log: Logger,
  ) {}

  /** Records one event's payload shape. Synchronous and bounded: called on the ingest hot path. */
  observe(accountId: string, name: string, payload: Record<string, unknown>): void {
    const key = keyOf(accountId, name);
    let agg = this.pending.get(key);
    const now = new Date().toISOString();
    if (!agg) {
      if (this.pending.size >= MAX_PENDING_TYPES) return;
      agg = { accountId, name, count: 0, firstSeen: now, lastSeen: now, paths: new Map(), truncated: false };
      this.pending.set(key, agg);
    }
    agg.count += 1;
    agg.lastSeen = now;
    const target = agg;
    walkPayload(payload, (shape) => {
      if (!addPath(target.paths, shape.fact + shape.path.slice(1), shape)) target.truncated = true;
    });
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Merges what this process aggregated into the table; errors are logged (the catalogue is a hint). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.flushing = this.flushing.then(async () => {
      for (const agg of batch) {
        await this.merge(agg).catch((err: unknown) =>
          this.log.warn({ err, eventName: agg.name }, 'event catalogue: flush failed'),
        );
      }
    });
    return this.flushing;
  }

  private async merge(agg: Aggregate): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(
        `INSERT INTO event_types (account_id, name, count, first_seen, last_seen) VALUES ($1, $2, 0, $3, $4)
         ON CONFLICT (account_id, name) DO NOTHING`,
        [agg.accountId, agg.name, agg.firstSeen, agg.lastSeen],
      );
      const [row] = (await m.query(
        `SELECT paths, truncated FROM event_types WHERE account_id = $1 AND name = $2 FOR UPDATE`,
        [agg.accountId, agg.name],
      )) as { paths: StoredPaths; truncated: boolean }[];
      const paths = new Map(Object.entries(row.paths));
      let truncated = row.truncated || agg.truncated;
      for (const [k, shape] of agg.paths) if (!addPath(paths, k, shape)) truncated = true;
      await m.query(
        `UPDATE event_types SET count = count + $3, first_seen = LEAST(first_seen, $4), last_seen = GREATEST(last_seen, $5),
           paths = $6, truncated = $7 WHERE account_id = $1 AND name = $2`,
        [
          agg.accountId,
          agg.name,
          agg.count,
          agg.firstSeen,
          agg.lastSeen,
          JSON.stringify(Object.fromEntries(paths)),
          truncated,
        ],
      );
    });
  }

  async list(accountId: string): Promise<EventTypeSummary[]> {
    await this.flush();
    const rows = (await this.db.query(
      `SELECT name, count, first_seen, last_seen, truncated, (SELECT count(*) FROM jsonb_object_keys(paths)) AS path_count
       FROM event_types WHERE account_id = $1 ORDER BY name`,
      [accountId],
    )) as Row[];
    return rows.map(summary);
  }

  async get(accountId: string, name: string): Promise<EventTypeDetail | null> {
    await this.flush();
    const [row] = (await this.db.query(
      `SELECT name, count, first_seen, last_seen, truncated, paths FROM event_types WHERE account_id = $1 AND name = $2`,
      [accountId, name],
    )) as Row[];
    if (!row) return null;
    const paths = Object.values(row.paths ?? {}).sort(
      (a, b) => a.fact.localeCompare(b.fact) || a.path.localeCompare(b.path),
    );
    return { ...summary({ ...row, path_count: paths.length }), paths };
  }

  /** Forgets an event type; it is recorded afresh when the event is seen again. */
  async forget(accountId: string, name: string): Promise<boolean> {
    await this.flush();
    const [, affected] = (await this.db.query(`DELETE FROM event_types WHERE account_id = $1 AND name = $2`, [
      accountId,
      name,
    ])) as [unknown, number];
    return affected > 0;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

interface Row {
  name: string;
  count: string;
  first_seen: Date;
  last_seen: Date;
  truncated: boolean;
  path_count?: string | number;
  paths?: StoredPaths;
}

const summary = (r: Row): EventTypeSummary => ({
  name: r.name,
  count: Number(r.count),
  firstSeen: new Date(r.first_seen).toISOString(),
  lastSeen: new Date(r.last_seen).toISOString(),
  pathCount: Number(r.path_count ?? 0),
  truncated: r.truncated,
});
