/** Connection settings for a dev server, a self-hosted cluster or Temporal Cloud (TLS / API key). */
import { readFileSync } from 'node:fs';
import { temporalAddress, type Config } from './config';

/** Fits both the client's Connection and the worker's NativeConnection. */
export function temporalConnectionOptions(config: Config) {
  const tls =
    config.TEMPORAL_TLS_CERT && config.TEMPORAL_TLS_KEY
      ? {
          clientCertPair: {
            crt: readFileSync(config.TEMPORAL_TLS_CERT),
            key: readFileSync(config.TEMPORAL_TLS_KEY),
          },
        }
      : config.TEMPORAL_API_KEY
        ? true
        : undefined;
  return {
    address: temporalAddress(config),
    ...(tls !== undefined && { tls }),
    ...(config.TEMPORAL_API_KEY && { apiKey: config.TEMPORAL_API_KEY }),
  };
}
