import { Router } from 'express';
import type { ApiDeps } from '../deps';
import type { OpenApiPaths } from '../openapi-helpers';

export const outboxOpenApi: OpenApiPaths = {};

export function outboxRoutes(_deps: ApiDeps): Router {
  const r = Router();
  return r;
}
