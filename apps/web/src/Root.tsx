import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { ApiClient } from './api/client.ts';
import { ApiProvider } from './api/context.tsx';
import { SessionProvider } from './auth.tsx';

/** Every provider the pages rely on; the entry point and the component tests both use it. */
export function Root({
  client,
  queryClient,
  children,
}: {
  client: ApiClient;
  queryClient: QueryClient;
  children: ReactNode;
}) {
  return (
    <MantineProvider>
      <ApiProvider client={client}>
        <QueryClientProvider client={queryClient}>
          <SessionProvider>{children}</SessionProvider>
        </QueryClientProvider>
      </ApiProvider>
    </MantineProvider>
  );
}

export function newQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { staleTime: 5_000, retry: 1 } } });
}
