import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { Init1732200000000 } from '../../migrations/1732200000000-Init';
import { Reminders1764900000100 } from '../../migrations/1764900000100-Reminders';
import { Consent1764900000200 } from '../../migrations/1764900000200-Consent';
import { EventCatalogue1764900000300 } from '../../migrations/1764900000300-EventCatalogue';
import { KeysAudit1764900000400 } from '../../migrations/1764900000400-KeysAudit';

export const MIGRATIONS = [
  Init1732200000000,
  Reminders1764900000100,
  Consent1764900000200,
  EventCatalogue1764900000300,
  KeysAudit1764900000400,
];

/**
 * `connectTimeoutMs`: how long a query waits for a pool connection. The API gives 2 s, so that with
 * PostgreSQL down it answers 503 database_unavailable well within a client's patience (with its 5 s
 * Temporal budget, under 10 s in all); workers can wait longer, their activities retry.
 */
export function createDataSource(url: string, poolSize = 10, connectTimeoutMs = 5000): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    logging: false,
    extra: { max: poolSize, connectionTimeoutMillis: connectTimeoutMs },
  });
}

export async function openDatabase(
  url: string,
  poolSize?: number,
  connectTimeoutMs?: number,
): Promise<DataSource> {
  return createDataSource(url, poolSize, connectTimeoutMs).initialize();
}
