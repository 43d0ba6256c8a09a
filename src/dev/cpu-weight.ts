/**
 * CPU weight of a supervised process when the machine runs short of CPU. Every supervised child is
 * detached, so it is its own session, and with autogroups (sched(7); on by default in most Linux
 * kernels, this machine's included) the scheduler shares the CPU between sessions first: a process's
 * own nice value then only orders the threads inside its session. So both are set: the session's
 * autogroup nice and the process's. Best effort: where neither is allowed or there is no
 * /proc/<pid>/autogroup, the process keeps its weight.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/** Sets the nice value (-20 … 19; lower needs root) of `pid`'s session; false if it could not. */
export function setSessionNice(pid: number, nice: number): boolean {
  let set = false;
  try {
    os.setPriority(pid, nice);
    set = true;
  } catch {
    /* not allowed */
  }
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    return set && !hasAutogroups();
  }
  return true;
}

/** The autogroup nice of `pid`'s session, or null without autogroups. */
export function sessionNice(pid: number): number | null {
  try {
    const m = /nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function hasAutogroups(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}
