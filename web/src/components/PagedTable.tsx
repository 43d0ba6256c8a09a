/**
 * A list the API pages (`?limit&cursor` → `{items, nextCursor}`): fetched a page at a time with TanStack
 * Query, shown in the virtualised DataTable with a "Load more" button while there are more pages.
 */
import { useInfiniteQuery } from '@tanstack/react-query';
import { DataTable } from './DataTable';

export interface PageQuery {
  limit: number;
  cursor?: string;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function usePagedList<T>(
  queryKey: readonly unknown[],
  fetchPage: (page: PageQuery) => Promise<Page<T>>,
  opts: { limit?: number; live?: boolean } = {},
) {
  const list = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) =>
      fetchPage({ limit: opts.limit ?? 200, ...(pageParam && { cursor: pageParam }) }),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // Live while the newest page is all there is; paging back stops it (every page would be refetched).
    refetchInterval: opts.live ? (q) => ((q.state.data?.pages.length ?? 0) > 1 ? false : 3000) : false,
  });
  return { ...list, rows: list.data?.pages.flatMap((p) => p.items) ?? [] };
}
export type PagedList<T> = ReturnType<typeof usePagedList<T>>;

type TableProps<T> = Omit<Parameters<typeof DataTable<T>>[0], 'rows'>;

export function PagedTable<T>({ list, ...table }: { list: PagedList<T> } & TableProps<T>) {
  if (list.isPending) return <p className="loading">Loading…</p>;
  return (
    <>
      <DataTable rows={list.rows} {...table} />
      {list.hasNextPage && (
        <button
          type="button"
          className="secondary"
          disabled={list.isFetchingNextPage}
          onClick={() => void list.fetchNextPage()}
        >
          Load more
        </button>
      )}
    </>
  );
}
