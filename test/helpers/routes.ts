/** The routes an Express app serves, read from its router: what role tests iterate over. */
import type { Express } from 'express';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `[METHOD, '/rules/{id}']` for every route (path parameters in OpenAPI form). */
export function routeTable(app: Express): [string, string][] {
  const out: [string, string][] = [];
  const walk = (stack: Layer[]) => {
    for (const l of stack) {
      if (l.route) {
        for (const p of ([] as string[]).concat(l.route.path)) {
          for (const m of Object.keys(l.route.methods)) {
            if (m !== '_all') out.push([m.toUpperCase(), p.replace(/:(\w+)/g, '{$1}')]);
          }
        }
      } else if (l.handle?.stack) walk(l.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}
