import type { Client } from '@temporalio/client';
import type { ChannelDeps } from './channels';
import { createChannelActivities } from './channels';
import { createRuleActivities } from './rules';

export type ActivityDeps = ChannelDeps & { temporal: Client };

/** Activities get their dependencies here; workflows import only the type of the result. */
export function createActivities(deps: ActivityDeps) {
  return { ...createRuleActivities(deps.db, deps.temporal), ...createChannelActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
