import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import type { ResponseOf } from './api/client.ts';
import { useApi } from './api/context.tsx';

export type Me = ResponseOf<'/api/v1/auth/me', 'get'>;

interface Session {
  /** The signed-in user; undefined when signed out (or still loading). */
  me: Me | undefined;
  loading: boolean;
  /** After a login or sign-up set the session cookie: load who is signed in; `notice` greets them. */
  signIn(notice?: string): Promise<void>;
  /** Signs out; `notice` is shown on the sign-in page that follows (e.g. why the session ended). */
  signOut(notice?: string): Promise<void>;
  /** A note for the page after a sign-in or sign-out. */
  notice: string | undefined;
}

const SessionContext = createContext<Session | null>(null);

const ME_KEY = ['me'] as const;

/**
 * The signed-in user. The session itself is an HttpOnly cookie that the login sets and page scripts cannot
 * read, so who is signed in is whatever `/auth/me` answers: a user, or 401 (signed out, expired, revoked).
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const me = useQuery({
    queryKey: ME_KEY,
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
    queryFn: async () => {
      const result = await api.GET('/api/v1/auth/me');
      // Anything but a user means "not signed in": the login page shows.
      return result.data ?? null;
    },
  });
  const signIn = useCallback(
    async (message?: string) => {
      setNotice(message);
      await queryClient.invalidateQueries({ queryKey: ME_KEY });
    },
    [queryClient],
  );
  const signOut = useCallback(
    async (message?: string) => {
      setNotice(message);
      // Logout revokes the session and clears its cookies; forget everything the signed-in user loaded.
      await api.POST('/api/v1/auth/logout').catch(() => undefined);
      queryClient.setQueryData(ME_KEY, null);
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== ME_KEY[0] });
    },
    [api, queryClient],
  );
  const value = useMemo(
    () => ({ me: me.data ?? undefined, loading: me.isPending, signIn, signOut, notice }),
    [me.data, me.isPending, signIn, signOut, notice],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
