/**
 * The one place the Temporal server version is pinned: `npm run temporal:server` builds this tag
 * (src/dev/temporal-server.ts), `npm run start:cluster` runs it, and docker-compose.yml's default
 * image tag must say the same (test/e2e/cluster.test.ts checks).
 */
export const TEMPORAL_SERVER_VERSION = '1.30.8';
