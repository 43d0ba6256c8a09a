/**
 * The typed API client: openapi-fetch over the types generated from the API's own OpenAPI document
 * (schema.d.ts, see scripts/web-api.ts). Same origin, bearer token from sessionStorage.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type ErrorBody = Schemas['Error'];
export type ErrorDetail = ErrorBody['error']['details'][number];

export const TOKEN_KEY = 'crm.apiKey';
export const getToken = () => sessionStorage.getItem(TOKEN_KEY);

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token && !request.headers.has('Authorization'))
      request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** An API error as the API wrote it: status, code, message and the fields it names. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  /** The message of the error on `path` (e.g. `trigger.eventName`), if the API named that field. */
  on(path: string): string | undefined {
    return this.details.find((d) => d.path === path)?.message;
  }
}

function isErrorBody(e: unknown): e is ErrorBody {
  return typeof e === 'object' && e !== null && 'error' in e && typeof e.error === 'object';
}

/** Data of a successful answer, or throws the API's error as an ApiProblem (for TanStack Query). */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  if (isErrorBody(error)) {
    const e = error.error;
    throw new ApiProblem(response.status, e.code, e.message, e.details ?? []);
  }
  throw new ApiProblem(response.status, 'http_error', `the API answered ${response.status}`);
}
