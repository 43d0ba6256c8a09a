import { Router } from 'express';
import type { ApiDeps } from '../deps';
import type { OpenApiPaths } from '../openapi-helpers';

export const rulesOpenApi: OpenApiPaths = {};

export function rulesRoutes(_deps: ApiDeps): Router {
  const r = Router();
  return r;
}
