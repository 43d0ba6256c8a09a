/**
 * The session: the API key (sessionStorage, sent as the bearer token by api/client.ts) and what it
 * may do. The role comes from GET /account's `key`; an `ingest` key cannot read /account (403), which
 * is how the app knows it can only send events.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiProblem, getToken, TOKEN_KEY, unwrap, type Schemas } from './api/client';

export type Role = Schemas['Account']['key']['role'];

export interface Session {
  token: string | null;
  /** Null for an ingest-only key (it cannot read the account) and while loading. */
  account: Schemas['Account'] | null;
  role: Role | null;
  loading: boolean;
  /** Checks the key against the API; stores it only if the API knows it. Throws ApiProblem. */
  signIn(key: string): Promise<void>;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

async function readAccount(token: string) {
  try {
    const account = await unwrap(api.GET('/account', { headers: { Authorization: `Bearer ${token}` } }));
    return { account, role: account.key.role };
  } catch (err) {
    // Only the role can make a valid key fail here: an ingest key may only POST /events.
    if (err instanceof ApiProblem && err.status === 403) return { account: null, role: 'ingest' as const };
    throw err;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState(getToken);
  const who = useQuery({
    queryKey: ['session', token],
    queryFn: () => readAccount(token!),
    enabled: token !== null,
    staleTime: 60_000,
    retry: false,
  });

  const signOut = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    queryClient.clear();
    setToken(null);
  }, [queryClient]);

  const signIn = useCallback(
    async (key: string) => {
      const found = await readAccount(key);
      sessionStorage.setItem(TOKEN_KEY, key);
      queryClient.setQueryData(['session', key], found);
      setToken(key);
    },
    [queryClient],
  );

  // A key revoked while signed in: back to the sign-in page.
  const revoked = token !== null && who.error instanceof ApiProblem && who.error.status === 401;
  useEffect(() => {
    if (revoked) signOut();
  }, [revoked, signOut]);

  const value = useMemo<Session>(
    () => ({
      token,
      account: who.data?.account ?? null,
      role: who.data?.role ?? null,
      loading: token !== null && who.isPending,
      signIn,
      signOut,
    }),
    [token, who.data, who.isPending, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** What the key may do (mirrors requiredRole in src/services/keys.ts): hide or disable the rest. */
export function useCan() {
  const { role } = useSession();
  return { read: role === 'read' || role === 'full', write: role === 'full' };
}
