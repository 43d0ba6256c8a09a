import { Router } from 'express';
import type { ApiDeps } from '../deps';
import type { OpenApiPaths } from '../openapi-helpers';

export const executionsOpenApi: OpenApiPaths = {};

export function executionsRoutes(_deps: ApiDeps): Router {
  const r = Router();
  return r;
}
