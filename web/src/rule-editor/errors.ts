/** The API's validation details, looked up by the rule field they name (and the fields under it). */
import { ApiProblem } from '../api/client';

export interface FieldErrors {
  /** Messages for `path` and anything under it (`actions[0].params.recipient.path`). */
  at(path: string): string | undefined;
  /** Details no field of the form shows. */
  rest(shown: RegExp): { path: string; message: string }[];
}

/** `strip`: a prefix the API put on the paths (`rule.` for an unsaved dry run). */
export function fieldErrors(error: unknown, strip = ''): FieldErrors {
  const details =
    error instanceof ApiProblem
      ? error.details.map((d) => ({
          ...d,
          path: strip && d.path.startsWith(strip) ? d.path.slice(strip.length) : d.path,
        }))
      : [];
  return {
    at(path) {
      const hits = details.filter(
        (d) => d.path === path || d.path.startsWith(`${path}.`) || d.path.startsWith(`${path}[`),
      );
      return hits.length ? hits.map((d) => d.message).join('; ') : undefined;
    },
    rest: (shown) => details.filter((d) => !shown.test(d.path)),
  };
}
