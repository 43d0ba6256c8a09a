/** GET /docs: Swagger UI reading GET /openapi.json ("Authorize" takes the API key). */
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { ApiDeps } from '../deps';

export function docsRoutes(_deps: ApiDeps): Router {
  const r = Router();
  const options = {
    swaggerUrl: '/openapi.json',
    customSiteTitle: 'CRM Automation Engine API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  };
  // The page loads its assets relative to itself, so it lives at /docs/.
  r.use('/docs', (req, res, next) => {
    const url = new URL(req.originalUrl, 'http://localhost');
    if (url.pathname === '/docs') {
      res.redirect(301, `/docs/${url.search}`);
      return;
    }
    next();
  });
  r.use('/docs', ...swaggerUi.serveFiles(undefined, options));
  r.get('/docs/', swaggerUi.setup(undefined, options));
  return r;
}
