/**
 * Reads V8 .cpuprofile files (node --cpu-prof) and ranks where the time went: by function (self time)
 * and by package or source file. `npx tsx bench/lib/cpuprofile.ts FILE...` prints the summary.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  topFunctions: { name: string; ms: number; pct: number }[];
  byModule: { module: string; ms: number; pct: number }[];
}

function moduleOf(url: string): string {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  if (src !== -1) return url.slice(src + 1).replace(/^file:\/\//, '');
  return path.basename(url);
}

/** The profile's start, in the process's monotonic clock (µs): threads of one process compare. */
export function profileStartUs(file: string): number {
  return (JSON.parse(readFileSync(file, 'utf8')) as Profile).startTime;
}

/**
 * Self time per function and per module. With `window` (µs, in the profile's clock), only samples
 * taken inside it count: the measurement, without start-up and warm-up.
 */
export function summarizeProfile(
  file: string,
  top = 25,
  window?: { fromUs: number; toUs: number },
): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (window && (t < window.fromUs || t > window.toUs)) continue;
      const dt = p.timeDeltas[i + 1] ?? 0;
      selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + Math.max(0, dt));
    }
  }
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    total += us;
    if (name === '(idle)' || name === '(program)') {
      if (name === '(idle)') idle += us;
      continue;
    }
    const key = `${name} ${moduleOf(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const m = name === '(garbage collector)' ? '(gc)' : moduleOf(n.callFrame.url);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const busy = Math.max(1, total - idle);
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ k, ms: Math.round(us / 100) / 10, pct: Math.round((us / busy) * 1000) / 10 }));
  return {
    file: path.basename(file),
    totalMs: Math.round(total / 1000),
    idleMs: Math.round(idle / 1000),
    topFunctions: rank(fn).map(({ k, ms, pct }) => ({ name: k, ms, pct })),
    byModule: rank(mod).map(({ k, ms, pct }) => ({ module: k, ms, pct })),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [`${s.file}: ${s.totalMs} ms sampled, ${s.totalMs - s.idleMs} ms busy`];
  lines.push('  by module:');
  for (const m of s.byModule.slice(0, 15))
    lines.push(`    ${String(m.pct).padStart(5)}%  ${m.ms} ms  ${m.module}`);
  lines.push('  by function (self):');
  for (const f of s.topFunctions.slice(0, 20))
    lines.push(`    ${String(f.pct).padStart(5)}%  ${f.ms} ms  ${f.name}`);
  return lines.join('\n');
}

if (require.main === module) {
  for (const f of process.argv.slice(2)) process.stdout.write(formatSummary(summarizeProfile(f)) + '\n\n');
}
