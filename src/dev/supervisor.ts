/**
 * A child process kept running the way compose's `restart: unless-stopped` keeps a container: each
 * in a process group of its own (so a terminal's Ctrl-C reaches only the parent, which stops the
 * children in order), restarted a second after any exit it did not ask for (a kill -9 drill, a crash).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { setSessionNice } from './cpu-weight';

export interface SupervisedSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** What stop() sends first (PostgreSQL: SIGINT, its fast shutdown). */
  stopSignal?: NodeJS.Signals;
  /** How long stop() waits before SIGKILL. */
  stopGraceMs?: number;
  /** Every start's output is appended here too. */
  logFile?: string;
  /** A nice value above 0: the process yields the CPU to those at 0 when it runs short (./cpu-weight.ts). */
  nice?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Supervised {
  private child!: ChildProcess;
  private out = '';
  /** Output of the current start only. */
  private current = '';
  private stopping = false;
  private restarting = false;
  private exit!: Promise<void>;
  /** Starts (first start included) and their times, for drills that measure recovery. */
  readonly starts: number[] = [];
  onLine?: (line: string) => void;
  private readonly logStream?: WriteStream;

  constructor(readonly spec: SupervisedSpec) {
    if (spec.logFile) this.logStream = createWriteStream(spec.logFile, { flags: 'a' });
    this.launch();
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The last 20 KB of stdout and stderr. */
  output(): string {
    return this.out;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private launch(): void {
    const { command, args, env, cwd, uid, gid } = this.spec;
    const child = spawn(command, args, {
      cwd,
      env: env ?? process.env,
      uid,
      gid,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    if (this.spec.nice && child.pid) setSessionNice(child.pid, this.spec.nice);
    this.starts.push(Date.now());
    this.current = '';
    let partial = '';
    const take = (d: Buffer) => {
      const text = d.toString();
      this.logStream?.write(text);
      this.out = (this.out + text).slice(-20_000);
      this.current = (this.current + text).slice(-20_000);
      if (!this.onLine) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('error', (err) => (this.out += `\n${String(err)}\n`));
    this.exit = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        resolve();
        if (this.stopping || this.restarting) return;
        const note = `\n[${this.spec.name} exited (${signal ?? code}); restarting in 1 s]\n`;
        this.out += note;
        this.logStream?.write(note);
        void sleep(1000).then(() => {
          if (!this.stopping) this.launch();
        });
      }),
    );
  }

  /** Signals the whole process group (a drill's kill -9); the supervisor restarts it. */
  signal(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** Waits until the current start (a restart, after a kill) has printed `pattern`, its readiness line. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.running() && pattern.test(this.current)) return;
      if (Date.now() > deadline)
        throw new Error(`${this.spec.name} did not print ${pattern}: ${this.out.slice(-2000)}`);
      await sleep(100);
    }
  }

  private async terminate(): Promise<void> {
    if (!this.running()) return;
    this.signal(this.spec.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), this.spec.stopGraceMs ?? 15_000);
    await this.exit;
    clearTimeout(timer);
  }

  /** Stops it for good: stopSignal to the group, SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.terminate();
    this.logStream?.end();
  }

  /** A graceful restart (a rolling restart): stopped as by stop(), started again at once. */
  async restart(): Promise<void> {
    this.restarting = true;
    try {
      await this.terminate();
    } finally {
      this.restarting = false;
    }
    if (!this.stopping) this.launch();
  }
}
