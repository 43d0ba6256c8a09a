/**
 * `npm run temporal -- <args>`: the pinned `temporal` CLI pointed at this system's Temporal, so the
 * README's `temporal workflow list …` commands work as written beside `npm start`.
 * Fills in `--address` and `--namespace` (from TEMPORAL_ADDRESS / TEMPORAL_DEV_PORT and
 * TEMPORAL_NAMESPACE) unless the arguments name them.
 */
import { spawnSync } from 'node:child_process';
import { loadConfig, temporalAddress } from '../config';
import { resolveTemporalCli } from './temporal-bin';

function main(): void {
  const args = process.argv.slice(2);
  const config = loadConfig();
  const has = (flag: string) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  const extra = [
    ...(has('--address') ? [] : ['--address', temporalAddress(config)]),
    ...(has('--namespace') || has('-n') ? [] : ['--namespace', config.TEMPORAL_NAMESPACE]),
  ];
  // Flags go after the subcommand words (`workflow list --address …`), which the CLI accepts anywhere.
  const result = spawnSync(resolveTemporalCli(), [...args, ...(args.length ? extra : [])], {
    stdio: 'inherit',
  });
  process.exitCode = result.status ?? 1;
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
