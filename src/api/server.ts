import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { dataConverterFor } from '../codec';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { temporalConnectionOptions } from '../temporal';
import { retryWithinDeadline } from './temporal-retry';
import { createApp } from './app';
import { catalogueOf } from '../services/catalogue';

/** Starts the API on `port` (0 = any free port) and returns how to stop it gracefully. */
export async function startApi(opts: {
  config: Config;
  db: DataSource;
  log: Logger;
  port: number;
  host?: string;
  extraMetricsUrls?: string[];
  /**
   * An in-process worker's connection (`npm start`): event workflows then start eagerly, their first
   * workflow task handed to that worker in the start's answer. Its owner closes it.
   */
  workerConnection?: NativeConnection;
}) {
  const own = opts.workerConnection
    ? null
    : await Connection.connect({
        ...temporalConnectionOptions(opts.config),
        interceptors: [retryWithinDeadline()],
      });
  const temporal = new Client({
    connection: opts.workerConnection ?? own!,
    namespace: opts.config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(opts.config),
  });
  const app = createApp({ ...opts, temporal, eagerStart: Boolean(opts.workerConnection) });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(s)).on('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://127.0.0.1:${port}`,
    temporal,
    /** Stops accepting, lets in-flight requests finish, then closes the Temporal connection. */
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive clients (load balancers) would hold the drain open: close each connection as soon as it is idle.
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        server.once('close', () => clearInterval(sweep));
        server.closeIdleConnections();
      });
      await catalogueOf(opts.db, opts.log).close();
      await own?.close();
    },
  };
}
