import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';

export interface ApiDeps {
  config: Config;
  db: DataSource;
  temporal: Client;
  /** Set when `temporal` shares a NativeConnection with a worker in this process (`npm start`). */
  eagerStart?: boolean;
  log: Logger;
  /** Other Prometheus endpoints whose text GET /metrics appends (the worker's, under `npm start`). */
  extraMetricsUrls?: string[];
}
