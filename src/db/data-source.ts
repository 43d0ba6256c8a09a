import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { Init1732200000000 } from '../../migrations/1732200000000-Init';
import { Reminders1764900000100 } from '../../migrations/1764900000100-Reminders';

export const MIGRATIONS = [Init1732200000000, Reminders1764900000100];

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
