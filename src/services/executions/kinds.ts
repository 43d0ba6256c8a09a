/**
 * The execution log's vocabulary: run statuses, run kinds, and the time format of every field.
 */
import { z } from 'zod';

export const EXECUTION_STATUSES = [
  'running',
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
  'continued_as_new',
  'unknown',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
/** What GET /executions?status= accepts: the statuses a run of ours can end in. */
export const FILTER_STATUSES = [
  'running',
  'completed',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
] as const;

export const EXECUTION_KINDS = ['event', 'rule-run', 'scheduled-tick', 'other'] as const;
export type ExecutionKind = (typeof EXECUTION_KINDS)[number];

export const time = z.iso.datetime().describe('ISO 8601 time');
