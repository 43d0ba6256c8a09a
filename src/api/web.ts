/**
 * The management web app (web/, built into web/dist by `npm run build:web`), served from the API's
 * own origin: assets under /assets, index.html at / and for any other GET a browser navigates to that
 * no API route took (the app's own pages live under /ui/…, so they never shadow an API path).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { Router, type Request, type Response } from 'express';

/** web/dist beside src/ (under tsx) or beside dist/src/ (compiled, as in the Docker image). */
export function webDistDir(): string | null {
  for (const up of ['../..', '../../..']) {
    const dir = resolve(__dirname, up, 'web', 'dist');
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

/**
 * No inline scripts or styles; the email preview is an `<iframe sandbox srcdoc>` (about:srcdoc is not
 * a fetch, so `frame-src 'self'` does not block it, and the sandbox gives it no scripts and an opaque
 * origin). React sets `style` through the DOM, which `style-src 'self'` allows.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "child-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(res: Response) {
  res.setHeader('Content-Security-Policy', UI_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Web app not built</title></head>
<body><h1>The web app is not built</h1><p>Run <code>npm run build:web</code> (it runs on
<code>npm ci</code> too), then reload. The API works without it: see <a href="/docs/">/docs/</a>.</p></body></html>`;

/** A browser navigation (it asks for HTML by name), not an API client or curl's `*\/*`. */
const wantsHtml = (req: Request) =>
  (req.method === 'GET' || req.method === 'HEAD') && /\btext\/html\b/.test(req.headers.accept ?? '');

export function webRoutes(dir = webDistDir()) {
  const index = (_req: Request, res: Response) => {
    secure(res);
    // index.html names the hashed assets of the current build: never cached.
    res.setHeader('Cache-Control', 'no-store');
    if (!dir) res.status(503).type('html').send(NOT_BUILT);
    else res.sendFile(join(dir, 'index.html'));
  };
  const assets = Router();
  if (dir) {
    assets.use(
      '/assets',
      express.static(join(dir, 'assets'), {
        immutable: true,
        maxAge: '1y',
        fallthrough: false,
        setHeaders: (res) => secure(res),
      }),
    );
  }
  assets.get('/', index);
  /** Mounted last, before the 404 handler: pages of the app reloaded or opened by link. */
  const fallback = Router();
  fallback.use((req, res, next) => (wantsHtml(req) ? index(req, res) : next()));
  return { assets, fallback };
}
