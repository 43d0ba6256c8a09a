/**
 * GET /openapi.json, generated from the same zod schemas the API validates with: each route module
 * exports the path items of its routes, and this file only assembles them.
 */
import { errorSchema, type OpenApiPaths } from './openapi-helpers';
import { accountsOpenApi } from './routes/accounts';
import { eventsOpenApi } from './routes/events';
import { executionsOpenApi } from './routes/executions';
import { healthOpenApi } from './routes/health';
import { outboxOpenApi } from './routes/outbox';
import { rulesOpenApi } from './routes/rules';
import { templatesOpenApi } from './routes/templates';
import { usersOpenApi } from './routes/users';

export function buildOpenApi(): Record<string, unknown> {
  const paths: OpenApiPaths = {};
  for (const part of [
    healthOpenApi,
    accountsOpenApi,
    rulesOpenApi,
    usersOpenApi,
    templatesOpenApi,
    eventsOpenApi,
    executionsOpenApi,
    outboxOpenApi,
  ]) {
    for (const [p, item] of Object.entries(part)) paths[p] = { ...paths[p], ...item };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CRM Automation Engine',
      version: '0.1.0',
      description: 'Durable CRM automations on Temporal. Authenticate with `Authorization: Bearer <apiKey>`.',
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer' },
        adminToken: { type: 'http', scheme: 'bearer' },
      },
      schemas: { Error: errorSchema },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
