import { Router } from 'express';
import type { ApiDeps } from '../deps';
import type { OpenApiPaths } from '../openapi-helpers';

export const templatesOpenApi: OpenApiPaths = {};

export function templatesRoutes(_deps: ApiDeps): Router {
  const r = Router();
  return r;
}
