/**
 * Form helpers for the pages that edit: the API's error on the field it names, and the fields it named
 * that no control on the form shows (so no error is ever swallowed).
 */
import { ApiProblem } from './api/client';

export function apiErrors(error: unknown, fields: readonly string[]) {
  const problem = error instanceof ApiProblem ? error : null;
  const on = (field: string) =>
    problem?.details.find((d) => d.path === field || d.path.startsWith(`${field}.`))?.message;
  const unshown = problem
    ? problem.details.filter((d) => !fields.some((f) => d.path === f || d.path.startsWith(`${f}.`)))
    : [];
  /** For ErrorMessage: the error itself when no field shows it, else nothing. */
  const general =
    error && (!problem || !problem.details.length || unshown.length)
      ? problem && unshown.length
        ? new Error(
            `${problem.message}: ${unshown.map((d) => `${d.path || '(body)'} ${d.message}`).join('; ')}`,
          )
        : error
      : null;
  return { on, general };
}

/** A text input's value for an optional API field: empty → null (the API clears it). */
export const orNull = (v: string) => (v.trim() === '' ? null : v.trim());
