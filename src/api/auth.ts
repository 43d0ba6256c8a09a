import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { AccountEntity, type Account } from '../db/entities';
import { ApiError } from '../shared/errors';
import { hashApiKey } from '../shared/ids';

function bearer(req: Request): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : null;
}

const CACHE_MS = 30_000;

/** Resolves `Authorization: Bearer <apiKey>` to its account; every route below it is scoped to that account. */
export function requireAccount(db: DataSource) {
  // Ingest authenticates every event: a short cache saves a query per request.
  const cache = new Map<string, { account: Account; until: number }>();
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = bearer(req);
    if (!key) throw new ApiError(401, 'unauthorized', 'missing Authorization: Bearer <apiKey>');
    const hash = hashApiKey(key);
    const hit = cache.get(hash);
    let account = hit && hit.until > Date.now() ? hit.account : null;
    if (!account) {
      account = await db.getRepository(AccountEntity).findOneBy({ apiKeyHash: hash });
      if (!account) throw new ApiError(401, 'unauthorized', 'invalid API key');
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { account, until: Date.now() + CACHE_MS });
    }
    res.locals.account = account;
    next();
  };
}

export function requireAdmin(adminToken: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!adminToken)
      throw new ApiError(401, 'unauthorized', 'account creation is disabled: ADMIN_TOKEN is not set');
    const given = Buffer.from(bearer(req) ?? '');
    const wanted = Buffer.from(adminToken);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw new ApiError(401, 'unauthorized', 'missing or invalid admin token');
    }
    next();
  };
}

export const accountOf = (res: Response): Account => res.locals.account as Account;
