import { rmSync } from 'node:fs';
import type { Service } from '../src/dev/services';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __services?: Service[]; __dataDir?: string };
  for (const s of (g.__services ?? []).reverse()) await s.stop().catch(() => undefined);
  if (g.__dataDir) rmSync(g.__dataDir, { recursive: true, force: true });
}
