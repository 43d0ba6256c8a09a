import { spawn, type ChildProcess } from 'node:child_process';

export interface Proc {
  child: ChildProcess;
  /** stdout parsed as JSON lines (the product logs with pino); other lines as `{ notJson }`. */
  lines: Record<string, any>[];
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns `node <args>` and collects its output, as the npm scripts and the Dockerfile run the processes. */
export function spawnNode(args: string[], cwd: string, env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, args, { cwd, env });
  let out = '';
  let partial = '';
  const lines: Record<string, any>[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p));
      } catch {
        lines.push({ notJson: p });
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, output: () => out, exited };
}
