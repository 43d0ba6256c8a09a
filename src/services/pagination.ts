import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { z } from 'zod';
import { ApiError } from '../shared/errors';

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

const MAX_SEQ = 9223372036854775807n;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Keyset pagination on the table's `seq` column: rows inserted while a client pages appear after
 * the cursor, so no row is skipped or repeated.
 */
export async function paginate<E extends ObjectLiteral & { seq: string }, T>(
  qb: SelectQueryBuilder<E>,
  page: PageQuery,
  toDto: (row: E) => T,
): Promise<Page<T>> {
  const alias = qb.alias;
  if (page.cursor !== undefined) {
    const after = Buffer.from(page.cursor, 'base64url').toString();
    // seq is a PostgreSQL bigint: anything else is not a cursor we returned, and must not reach SQL.
    if (!/^\d{1,19}$/.test(after) || BigInt(after) > MAX_SEQ) {
      throw new ApiError(400, 'invalid_cursor', 'cursor is not one this API returned', [
        { path: 'cursor', message: 'is not one this API returned' },
      ]);
    }
    qb.andWhere(`${alias}.seq > :after`, { after });
  }
  const rows = await qb
    .orderBy(`${alias}.seq`, 'ASC')
    .take(page.limit + 1)
    .getMany();
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  return {
    items: items.map(toDto),
    nextCursor: more ? Buffer.from(String(items[items.length - 1].seq)).toString('base64url') : null,
  };
}
