/**
 * The shell: sign-in gate, navigation and the router. Pages live one per file in routes/ and are
 * loaded lazily, so the first load carries only this shell. Paths are under /ui (main.tsx), never an
 * API path, so reloading a page never hits an API route.
 */
import { lazy, Suspense, type ComponentType } from 'react';
import { Link, Redirect, Route, Switch, useRoute } from 'wouter';
import { useSession } from './auth';
import SignIn from './routes/SignIn';

const page = (load: () => Promise<{ default: ComponentType }>) => lazy(load);
const pages = {
  rules: page(() => import('./routes/Rules')),
  rule: page(() => import('./routes/Rule')),
  runs: page(() => import('./routes/Runs')),
  run: page(() => import('./routes/Run')),
  outbox: page(() => import('./routes/Outbox')),
  users: page(() => import('./routes/Users')),
  templates: page(() => import('./routes/Templates')),
  suppressions: page(() => import('./routes/Suppressions')),
  keys: page(() => import('./routes/Keys')),
  notFound: page(() => import('./routes/NotFound')),
};

/** Navigation, in this order; the accessible names are part of the product's contract. */
export const NAV = [
  { href: '/rules', label: 'Rules' },
  { href: '/runs', label: 'Runs' },
  { href: '/outbox', label: 'Outbox' },
  { href: '/users', label: 'Users' },
  { href: '/templates', label: 'Templates' },
  { href: '/suppressions', label: 'Suppressions' },
  { href: '/keys', label: 'Keys' },
] as const;

function NavLink({ href, label }: { href: string; label: string }) {
  const [active] = useRoute(`${href}/*?`);
  return (
    <Link href={href} aria-current={active ? 'page' : undefined} className={active ? 'active' : undefined}>
      {label}
    </Link>
  );
}

function Header({ showNav }: { showNav: boolean }) {
  const { account, role, signOut } = useSession();
  return (
    <header className="app-header">
      <span className="brand">CRM Automation Engine</span>
      {showNav && (
        <nav aria-label="Main">
          {NAV.map((n) => (
            <NavLink key={n.href} {...n} />
          ))}
        </nav>
      )}
      <span className="whoami">
        {account ? `${account.name} · key “${account.key.name}”` : 'API key'} ({role})
      </span>
      <button type="button" onClick={signOut}>
        Sign out
      </button>
    </header>
  );
}

function IngestOnly() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">This key can only send events</h1>
      <p>
        Its role is <code>ingest</code>: it may call <code>POST /events</code> and nothing else. Sign in with
        a key of role <code>read</code> or <code>full</code> to see rules and runs.
      </p>
    </section>
  );
}

export function App() {
  const { token, role, loading } = useSession();
  if (!token) return <SignIn />;
  if (loading || !role) return <p className="loading">Loading…</p>;
  const ingestOnly = role === 'ingest';
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Header showNav={!ingestOnly} />
      <main id="main" tabIndex={-1}>
        {ingestOnly ? (
          <IngestOnly />
        ) : (
          <Suspense fallback={<p className="loading">Loading…</p>}>
            <Switch>
              <Route path="/">
                <Redirect to="/rules" replace />
              </Route>
              <Route path="/rules" component={pages.rules} />
              <Route path="/rules/new" component={pages.rule} />
              <Route path="/rules/:id" component={pages.rule} />
              <Route path="/runs" component={pages.runs} />
              <Route path="/runs/:id" component={pages.run} />
              <Route path="/outbox" component={pages.outbox} />
              <Route path="/users" component={pages.users} />
              <Route path="/templates" component={pages.templates} />
              <Route path="/suppressions" component={pages.suppressions} />
              <Route path="/keys" component={pages.keys} />
              <Route component={pages.notFound} />
            </Switch>
          </Suspense>
        )}
      </main>
    </>
  );
}
