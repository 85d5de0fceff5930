import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

/** One page of a list as every list operation of the API answers it. */
export interface Page<T> {
  items: T[];
  page: number;
  perPage: number;
  total: number;
}

export interface PageQuery {
  page: number;
  perPage: number;
  sort?: string;
}

export const PAGE_SIZES = [10, 25, 50, 100, 200] as const;

/** What DataTable needs to show and change the page of a server-side paged list. */
export interface Paging {
  page: number;
  perPage: number;
  total: number | undefined;
  onPage(page: number): void;
  onPerPage(perPage: number): void;
}

/** What DataTable needs to sort by a column: the API's `sort` value (`field` or `-field`). */
export interface Sorting {
  value: string | undefined;
  onSort(sort: string): void;
}

/**
 * A list paged, sorted and filtered by the API (`?page&perPage&sort` plus filters): only the shown page is
 * fetched, and the total comes from the envelope. Changing a filter, the sort or the page size goes back to
 * the first page. `key` names the query for invalidation after changes (`['customers']`).
 */
export function usePagedList<T, F extends object>(
  key: readonly unknown[],
  fetchPage: (query: PageQuery & F) => Promise<Page<T>>,
  options: {
    filters?: F;
    defaultSort?: string;
    perPage?: number;
    refetchInterval?: number;
    /** False while the list cannot be asked for yet (its parent is not chosen). */
    enabled?: boolean;
  } = {},
) {
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(options.perPage ?? 25);
  const [sort, setSort] = useState(options.defaultSort);
  const filters = (options.filters ?? {}) as F;
  const [seenFilters, setSeenFilters] = useState(JSON.stringify(filters));
  // A new filter shows its first page (set during render, React's pattern for state derived from props).
  if (seenFilters !== JSON.stringify(filters)) {
    setSeenFilters(JSON.stringify(filters));
    setPage(1);
  }
  const query = useQuery({
    queryKey: [...key, { page, perPage, sort, ...filters }],
    queryFn: () => fetchPage({ page, perPage, ...(sort ? { sort } : {}), ...filters }),
    placeholderData: keepPreviousData,
    enabled: options.enabled ?? true,
    ...(options.refetchInterval ? { refetchInterval: options.refetchInterval } : {}),
  });
  const total = query.data?.total;
  // The last rows of the last page were deleted: show the page that now is the last.
  const lastPage = total === undefined ? page : Math.max(1, Math.ceil(total / perPage));
  if (page > lastPage) setPage(lastPage);
  const paging: Paging = {
    page,
    perPage,
    total,
    onPage: setPage,
    onPerPage: (n) => {
      setPerPage(n);
      setPage(1);
    },
  };
  const sorting: Sorting = {
    value: sort,
    onSort: (s) => {
      setSort(s);
      setPage(1);
    },
  };
  return { query, paging, sorting };
}
