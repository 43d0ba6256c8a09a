/**
 * GET /openapi.json, generated from the same zod schemas the API validates with: each route module
 * exports the path items of its routes, and this file only assembles them (plus the few routes that
 * app.ts serves itself).
 */
import { componentSchemas, errorSchema, errors, type OpenApiPaths } from './openapi-helpers';
import { accountOpenApi } from './routes/account';
import { accountsOpenApi } from './routes/accounts';
import { codecOpenApi } from './routes/codec';
import { eventsOpenApi } from './routes/events';
import { eventTypesOpenApi } from './routes/event-types';
import { executionsOpenApi } from './routes/executions';
import { healthOpenApi } from './routes/health';
import { outboxOpenApi } from './routes/outbox';
import { rulesOpenApi } from './routes/rules';
import { ruleVersionsOpenApi } from './routes/rule-versions';
import { templatesOpenApi } from './routes/templates';
import { usersOpenApi } from './routes/users';
import { keysOpenApi } from './routes/keys';
import { auditOpenApi } from './routes/audit';
import { requiredRole } from '../services/keys';
import { suppressionsOpenApi } from './routes/suppressions';
import { twilioOpenApi } from './routes/twilio';
import { unsubscribeOpenApi } from './routes/unsubscribe';
import { webhookSecretOpenApi } from './routes/webhook-secret';

/** Routes app.ts serves directly. */
const appOpenApi: OpenApiPaths = {
  '/': {
    get: {
      tags: ['operations'],
      summary: 'The management web app (its pages live under /ui/…; sign in with an API key)',
      operationId: 'webApp',
      security: [],
      responses: {
        '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        '503': {
          description: 'The web app is not built (`npm run build:web`)',
          content: { 'text/html': { schema: { type: 'string' } } },
        },
      },
    },
  },
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
  { name: 'keys', description: 'API keys and their roles: `ingest`, `read`, `full`' },
  { name: 'audit', description: 'Who changed what, when; rule versions' },
  { name: 'suppressions', description: 'Addresses that must not be messaged (opt-outs)' },
  { name: 'webhooks', description: 'Signed callbacks from Twilio and unsubscribe links (no API key)' },
  { name: 'accounts', description: 'Tenants (operator token)' },
  { name: 'account', description: "The caller's own account and its settings" },
  { name: 'operations', description: 'Health, readiness, metrics and this document' },
];

const ROLE_TEXT = {
  ingest: 'Needs a key with role `ingest` or `full`.',
  read: 'Needs a key with role `read` or `full`.',
  full: 'Needs a key with role `full`.',
  any: 'Any key may call it, whatever its role.',
};

/** States the role each API-key operation needs (from services/keys.ts, which auth.ts enforces). */
function withRoles(path: string, item: Record<string, unknown>) {
  for (const [method, op] of Object.entries(item) as [string, Record<string, unknown>][]) {
    if (method === 'parameters' || op.security) continue; // public and operator-token operations
    const role = requiredRole(method, path);
    op['x-required-role'] = role;
    op.description = op.description ? `${String(op.description)} ${ROLE_TEXT[role]}` : ROLE_TEXT[role];
    const responses = op.responses as Record<string, unknown>;
    // Any key-authenticated call: a wrong role, or too many failed keys from this address.
    Object.assign(responses, { ...errors(403, 429), ...responses });
  }
}

export function buildOpenApi(): Record<string, unknown> {
  const paths: OpenApiPaths = {};
  for (const part of [
    healthOpenApi,
    appOpenApi,
    accountsOpenApi,
    codecOpenApi,
    accountOpenApi,
    rulesOpenApi,
    ruleVersionsOpenApi,
    usersOpenApi,
    templatesOpenApi,
    eventsOpenApi,
    eventTypesOpenApi,
    executionsOpenApi,
    outboxOpenApi,
    keysOpenApi,
    auditOpenApi,
    suppressionsOpenApi,
    twilioOpenApi,
    unsubscribeOpenApi,
    webhookSecretOpenApi,
  ]) {
    for (const [p, item] of Object.entries(part)) paths[p] = { ...paths[p], ...item };
  }
  for (const [p, item] of Object.entries(paths)) withRoles(p, item);
  return {
    openapi: '3.1.0',
    info: {
      title: 'CRM Automation Engine',
      version: '0.1.0',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      description:
        'Durable CRM automations on Temporal. Authenticate with `Authorization: Bearer <apiKey>`; every ' +
        "object belongs to the key's account, and another account's object answers 404. Errors are " +
        '`{"error": {"code", "message", "details": [{"path", "message"}]}}`. Lists take `limit` and ' +
        '`cursor` and answer `{"items", "nextCursor"}`. Keys have a role (`ingest`, `read` or `full`): ' +
        'each operation states the role it needs in `x-required-role`; another role answers 403 `forbidden`.',
    },
    // Relative: the host that serves this document (a generated client takes its base URL as given).
    servers: [{ url: '/', description: 'This API' }],
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
