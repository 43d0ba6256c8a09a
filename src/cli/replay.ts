import type { Config } from '../config';

/** Replays histories against the current workflow code (see issue: execution log and replay). */
export async function replayCommand(_config: Config, _args: string[]): Promise<number> {
  console.error('replay: not implemented yet');
  return 2;
}
