import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { type ResponseOf, tokenStore, unwrap } from './api/client.ts';
import { useApi } from './api/context.tsx';

export type Me = ResponseOf<'/api/v1/auth/me', 'get'>;

interface Session {
  token: string | null;
  me: Me | undefined;
  loading: boolean;
  signIn(token: string): void;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

/** The signed-in user: a bearer token kept in local storage and who it belongs to (`/auth/me`). */
export function SessionProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [token, setToken] = useState(tokenStore.get());
  const me = useQuery({
    queryKey: ['me', token],
    enabled: token !== null,
    retry: false,
    queryFn: async () => {
      const result = await api.GET('/api/v1/auth/me');
      if (result.response.status === 401) {
        // The token expired or was revoked: forget it so the login page shows.
        tokenStore.set(null);
        setToken(null);
      }
      return unwrap(result);
    },
  });
  const signIn = useCallback((next: string) => {
    tokenStore.set(next);
    setToken(next);
  }, []);
  const signOut = useCallback(async () => {
    await api.POST('/api/v1/auth/logout').catch(() => undefined);
    tokenStore.set(null);
    setToken(null);
    queryClient.clear();
  }, [api, queryClient]);
  const value = useMemo(
    () => ({ token, me: me.data, loading: token !== null && me.isPending, signIn, signOut }),
    [token, me.data, me.isPending, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
