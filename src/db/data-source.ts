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

export function createDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    logging: false,
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
  });
}

export async function openDatabase(url: string, poolSize?: number): Promise<DataSource> {
  return createDataSource(url, poolSize).initialize();
}
