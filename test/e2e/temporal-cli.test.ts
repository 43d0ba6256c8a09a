/**
 * `npm run temporal -- …` runs the pinned CLI against this system's Temporal: the README's
 * `temporal workflow list --query …` commands work as written, without looking up an address.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('npm run temporal fills in the address and namespace', async () => {
  const { stdout } = await run('npm', ['run', '-s', 'temporal', '--', 'operator', 'namespace', 'describe'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: 'default',
    },
  });
  expect(stdout).toMatch(/NamespaceInfo\.Name\s+default/);
});

test('an address given on the command line wins (an unreachable one fails)', async () => {
  await expect(
    run(
      'npm',
      ['run', '-s', 'temporal', '--', 'operator', 'namespace', 'describe', '--address', '127.0.0.1:1'],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS },
        timeout: 30_000,
      },
    ),
  ).rejects.toThrow();
});
