import { useQuery } from '@tanstack/react-query';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';

/**
 * Options of a drop-down of records. When there is nothing to choose, the one option says what to create
 * first, so an empty list never looks like a broken form.
 */
export function recordOptions(
  items: { id: string; name: string }[] | undefined,
  missing: string,
  none = 'Choose…',
) {
  if (items !== undefined && items.length === 0) return [{ value: '', label: missing }];
  return [{ value: '', label: none }, ...(items ?? []).map((i) => ({ value: i.id, label: i.name }))];
}

/** Resellers for an operator's "belongs to" choice; other roles create within their own reseller. */
export function useResellers() {
  const api = useApi();
  const operator = useSession().me?.role === 'operator';
  const resellers = useQuery({
    queryKey: ['resellers'],
    enabled: operator,
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/resellers', { params: { query: { perPage: 500, sort: 'name' } } })),
  });
  return { operator, items: resellers.data?.items };
}

/** The rewrite rule sets a record may use. */
export function useRuleSets() {
  const api = useApi();
  return useQuery({
    queryKey: ['rewrite-rule-sets'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/rewrite-rule-sets', { params: { query: { perPage: 500 } } })),
  });
}
