/** The API's error shape, `{"error": {code, message, details}}`, thrown anywhere and rendered once. */
export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  static validation(details: ErrorDetail[]): ApiError {
    return new ApiError(
      400,
      'validation_failed',
      details.map((d) => `${d.path}: ${d.message}`).join('; '),
      details,
    );
  }

  static notFound(what: string): ApiError {
    return new ApiError(404, 'not_found', `${what} not found`);
  }
}

/** `actions[0].params.recipient` from zod's ['actions', 0, 'params', 'recipient']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(body)';
}
