/**
 * GET /openapi.json, generated from the same zod schemas the API validates with: each route module
 * exports the path items of its routes, and this file only assembles them (plus the few routes that
 * app.ts serves itself).
 */
import { componentSchemas, errorSchema, type OpenApiPaths } from './openapi-helpers';
import { accountOpenApi } from './routes/account';
import { accountsOpenApi } from './routes/accounts';
import { eventsOpenApi } from './routes/events';
import { executionsOpenApi } from './routes/executions';
import { healthOpenApi } from './routes/health';
import { outboxOpenApi } from './routes/outbox';
import { rulesOpenApi } from './routes/rules';
import { templatesOpenApi } from './routes/templates';
import { usersOpenApi } from './routes/users';

/** Routes app.ts serves directly. */
const appOpenApi: OpenApiPaths = {
  '/openapi.json': {
    get: {
      tags: ['operations'],
      summary: 'This document',
      operationId: 'openapi',
      security: [],
      responses: {
        '200': {
          description: 'The OpenAPI 3.1 document',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  },
  '/docs': {
    get: {
      tags: ['operations'],
      summary: 'Interactive API documentation (Swagger UI) reading /openapi.json',
      operationId: 'docs',
      security: [],
      responses: {
        '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        '301': { description: 'Redirect from /docs to /docs/' },
      },
    },
  },
  '/metrics': {
    get: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      operationId: 'metrics',
      security: [],
      responses: {
        '200': {
          description: 'Prometheus text exposition format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  },
};

const TAGS = [
  { name: 'rules', description: 'Automation rules: when event X happens, wait D, and if C holds, run A' },
  { name: 'users', description: 'The people events name and rules address' },
  { name: 'templates', description: 'Email templates referenced by `templateId`' },
  { name: 'events', description: 'Events in; each starts a durable Temporal workflow' },
  { name: 'executions', description: 'The execution log, read from Temporal history' },
  { name: 'outbox', description: 'Messages of channels that are not configured' },
  { name: 'accounts', description: 'Tenants (operator token)' },
  { name: 'account', description: "The caller's own account and its settings" },
  { name: 'operations', description: 'Health, readiness, metrics and this document' },
];

export function buildOpenApi(): Record<string, unknown> {
  const paths: OpenApiPaths = {};
  for (const part of [
    healthOpenApi,
    appOpenApi,
    accountsOpenApi,
    accountOpenApi,
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
      description:
        'Durable CRM automations on Temporal. Authenticate with `Authorization: Bearer <apiKey>`; every ' +
        "object belongs to the key's account, and another account's object answers 404. Errors are " +
        '`{"error": {"code", "message", "details": [{"path", "message"}]}}`. Lists take `limit` and ' +
        '`cursor` and answer `{"items", "nextCursor"}`.',
    },
    tags: TAGS,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: "The account's API key" },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, for POST /accounts' },
      },
      schemas: { Error: errorSchema, ...componentSchemas() },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
