import { Router } from 'express';
import type { ApiDeps } from '../deps';
import type { OpenApiPaths } from '../openapi-helpers';

export const usersOpenApi: OpenApiPaths = {};

export function usersRoutes(_deps: ApiDeps): Router {
  const r = Router();
  return r;
}
