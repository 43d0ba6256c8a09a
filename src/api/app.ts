import express, { type ErrorRequestHandler, type Express } from 'express';
import pinoHttp from 'pino-http';
import { ApiError } from '../shared/errors';
import { metrics, registry } from '../metrics';
import { newId } from '../shared/ids';
import { AuthFailures, requireAccount } from './auth';
import type { ApiDeps } from './deps';
import { databaseUnavailable, isDatabaseUnavailable } from './database-unavailable';
import { isTemporalUnavailable, temporalUnavailable } from './temporal-unavailable';
import { accountSelfRoutes } from './routes/account';
import { accountRoutes } from './routes/accounts';
import { codecRoutes } from './routes/codec';
import { eventRoutes } from './routes/events';
import { eventTypesRoutes } from './routes/event-types';
import { healthRoutes } from './routes/health';
import { executionsRoutes } from './routes/executions';
import { outboxRoutes } from './routes/outbox';
import { rulesRoutes } from './routes/rules';
import { templatesRoutes } from './routes/templates';
import { usersRoutes } from './routes/users';
import { suppressionsRoutes } from './routes/suppressions';
import { twilioRoutes } from './routes/twilio';
import { unsubscribeRoutes } from './routes/unsubscribe';
import { webhookSecretRoutes } from './routes/webhook-secret';
import { buildOpenApi } from './openapi';
import { docsRoutes } from './routes/docs';
import { keysRoutes } from './routes/keys';
import { auditRoutes } from './routes/audit';
import { webRoutes } from './web';

export const BODY_LIMIT = '1mb';
const ACCOUNT_SCOPED = [
  '/rules',
  '/users',
  '/templates',
  '/events',
  '/event-types',
  '/executions',
  '/outbox',
  '/keys',
  '/audit',
  '/suppressions',
  '/account',
];

const errorHandler =
  (deps: ApiDeps): ErrorRequestHandler =>
  (err, req, res, _next) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (err?.type === 'entity.parse.failed')
      e = new ApiError(400, 'invalid_json', 'request body is not valid JSON');
    else if (err?.type === 'entity.too.large')
      e = new ApiError(413, 'body_too_large', `request body is larger than ${BODY_LIMIT}`);
    else if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') {
      e = new ApiError(415, 'unsupported_encoding', 'request body encoding is not supported');
    } else if (isDatabaseUnavailable(err)) {
      deps.log.warn({ err: { message: String(err?.message) }, reqId: req.id }, 'database unavailable');
      e = databaseUnavailable();
    } else if (isTemporalUnavailable(err)) {
      deps.log.warn({ err, reqId: req.id }, 'Temporal unavailable');
      e = temporalUnavailable();
    } else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      e = new ApiError(err.status, 'bad_request', 'the request could not be read');
    } else {
      // Never a stack trace or an internal message to the client.
      deps.log.error({ err, reqId: req.id }, 'unhandled error');
      e = new ApiError(500, 'internal', 'internal error');
    }
    res
      .set(e.headers)
      .status(e.status)
      .json({ error: { code: e.code, message: e.message, details: e.details } });
  };

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Read by auth.ts: failed credentials per client address, for this app.
  app.locals.authFailures = new AuthFailures(deps.config.AUTH_FAILURES_PER_MINUTE);
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: deps.log,
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) ?? newId('req', 12);
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customProps: (_req, res) => ({ accountId: res.locals?.account?.id }),
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
    }),
  );
  app.use((req, res, next) => {
    const end = metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: req.route?.path ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });
  // Signed by Twilio or by our unsubscribe token, not the API key; form bodies, parsed by the routes.
  app.use(twilioRoutes(deps));
  app.use(unsubscribeRoutes(deps));
  app.use(express.json({ limit: BODY_LIMIT, strict: false }));
  // Anything but JSON on a write is refused clearly rather than read as an empty body. A request
  // with no body at all (no Content-Length, no Transfer-Encoding) is fine whatever its Content-Type.
  app.use((req, _res, next) => {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    if (
      ['POST', 'PUT', 'PATCH'].includes(req.method) &&
      hasBody &&
      req.body === undefined &&
      req.headers['content-type']
    ) {
      throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
    }
    next();
  });

  app.use(healthRoutes(deps));
  const openapi = buildOpenApi();
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use(docsRoutes(deps));
  app.get('/metrics', async (_req, res) => {
    let text = await registry.metrics();
    for (const url of deps.extraMetricsUrls ?? []) {
      text += await fetch(url)
        .then((r) => r.text())
        .catch(() => `# ${url} unreachable\n`);
    }
    res.type(registry.contentType).send(text);
  });
  app.use(accountRoutes(deps));
  app.use(codecRoutes(deps));
  const web = webRoutes();
  app.use(web.assets);

  // Everything under these prefixes is scoped to the API key's account.
  app.use(ACCOUNT_SCOPED, requireAccount(deps.db));
  app.use(eventRoutes(deps));
  app.use(eventTypesRoutes(deps));
  app.use(rulesRoutes(deps));
  app.use(usersRoutes(deps));
  app.use(templatesRoutes(deps));
  app.use(executionsRoutes(deps));
  app.use(outboxRoutes(deps));
  app.use(accountSelfRoutes(deps));
  app.use(keysRoutes(deps));
  app.use(auditRoutes(deps));
  app.use(suppressionsRoutes(deps));
  app.use(webhookSecretRoutes(deps));

  app.use(web.fallback);
  app.use((req) => {
    throw new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps));
  return app;
}
