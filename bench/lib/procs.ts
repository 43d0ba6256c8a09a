/**
 * Child processes of the benchmark and the drills (worker, API, `npm start`), and what Linux's /proc
 * says about them: resident memory, CPU time, descendants. Every process is spawned detached, in a
 * process group of its own, so a drill can SIGKILL a whole tree and nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from './util';

export const ROOT = path.resolve(__dirname, '../..');
const CLK_TCK = 100;

export interface Managed {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Date.now() when it was spawned. */
  startedAt: number;
  /** The last 20 KB of stdout and stderr together. */
  output(): string;
  exited(): boolean;
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the group leader has exited. */
  stop(graceMs?: number): Promise<void>;
  waitExit(timeoutMs: number): Promise<number | null>;
}

/** Runs a TypeScript entry point with `node --import tsx` (one process, so its RSS is the worker's). */
export function spawnTs(
  name: string,
  entry: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
  nodeArgs: string[] = [],
): Managed {
  return spawnManaged(name, process.execPath, [...nodeArgs, '--import', 'tsx', entry, ...args], env);
}

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
): Managed {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const take = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const m: Managed = {
    name,
    child,
    pid: child.pid!,
    startedAt: Date.now(),
    output: () => out,
    exited,
    async waitForOutput(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(out);
        if (match) return match;
        if (exited())
          throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${out.slice(-3000)}`);
        if (Date.now() > deadline)
          throw new Error(`${name} did not print ${pattern} within ${timeoutMs} ms: ${out.slice(-2000)}`);
        await sleep(100);
      }
    },
    signal(sig) {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* already gone */
      }
    },
    async stop(graceMs = 15_000) {
      if (exited()) return;
      m.signal('SIGTERM');
      const t = setTimeout(() => m.signal('SIGKILL'), graceMs);
      await exit;
      clearTimeout(t);
    },
    waitExit: (timeoutMs) =>
      Promise.race([exit, sleep(timeoutMs).then(() => Promise.reject(new Error(`${name} did not exit`)))]),
  };
  return m;
}

function stat(
  pid: number,
): { state: string; ppid: number; pgid: number; cpuMs: number; comm: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    // fields after comm: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
    return {
      state: f[0],
      ppid: Number(f[1]),
      pgid: Number(f[2]),
      cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK,
      comm,
    };
  } catch {
    return null;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** `pid` and every process below it. */
export function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const s = stat(p);
    if (!s) continue;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), p]);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    if (stat(p) === null) continue;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

export function comm(pid: number): string {
  return stat(pid)?.comm ?? '?';
}

export function describe(pids: number[]): string[] {
  return pids.map((p) => `${p}:${stat(p)?.comm ?? '?'}`);
}

/** CPU time (user + system) of the given processes, in ms. */
export function cpuMs(pids: number[]): number {
  return pids.reduce((sum, p) => sum + (stat(p)?.cpuMs ?? 0), 0);
}

function statusField(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export const rssMb = (pid: number) => statusField(pid, 'VmRSS');
export const peakRssMb = (pid: number) => statusField(pid, 'VmHWM');

/** Running (a zombie, killed but not yet reaped, does not count). */
export function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/** SIGKILLs `pid`'s process group and every descendant (some may have left the group). */
export function killTree(pid: number): number[] {
  const victims = tree(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* no such group */
  }
  for (const p of victims) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return victims;
}
