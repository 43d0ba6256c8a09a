import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { AccountEntity, ApiKeyEntity, type Account, type Role } from '../db/entities';
import type { Actor } from '../services/audit';
import { requiredRole, roleAllows } from '../services/keys';
import { ApiError } from '../shared/errors';
import { hashApiKey } from '../shared/ids';

function bearer(req: Request): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : null;
}

export interface CallerKey {
  id: string;
  name: string;
  role: Role;
}

/**
 * Resolved keys, by hash. A revoke in this process drops its entry at once (`forgetKey`); other API
 * processes keep a revoked key working for at most CACHE_MS.
 */
export const AUTH_CACHE_MS = 30_000;
const TOUCH_MS = 60_000;
const cache = new Map<string, { account: Account; key: CallerKey; until: number; touchedAt: number }>();
export const forgetKey = (hash: string) => cache.delete(hash);

/**
 * Failed credentials per client address, in fixed one-minute windows: past `limit` failures a wrong
 * key or admin token answers 429. A valid key is checked first, so it is never slowed down.
 */
export class AuthFailures {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly limit: number) {}

  /** Counts one failure of `req` and returns the error to answer with. */
  fail(req: Request, error: ApiError): ApiError {
    if (this.limit === 0) return error;
    const now = Date.now();
    const addr = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    let w = this.windows.get(addr);
    if (!w || now - w.start >= 60_000) {
      if (this.windows.size > 10_000) this.windows.clear();
      w = { start: now, count: 0 };
      this.windows.set(addr, w);
    }
    w.count++;
    if (w.count <= this.limit) return error;
    return new ApiError(
      429,
      'too_many_failures',
      'too many failed authentication attempts from this address',
      [],
      {
        'Retry-After': String(Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000))),
      },
    );
  }
}

const failure = (req: Request, message: string) => {
  const e = new ApiError(401, 'unauthorized', message);
  const failures = req.app.locals.authFailures as AuthFailures | undefined;
  return failures ? failures.fail(req, e) : e;
};

/** One indexed read: the key (by hash) joined with its account. */
async function lookup(db: DataSource, hash: string) {
  const { entities, raw } = await db
    .getRepository(AccountEntity)
    .createQueryBuilder('a')
    .innerJoin('ApiKey', 'k', 'k.account_id = a.id')
    .addSelect(['k.id', 'k.name', 'k.role', 'k.last_used_at'])
    .where('k.key_hash = :hash', { hash })
    .getRawAndEntities<{ k_id: string; k_name: string; k_role: Role; k_last_used_at: Date | null }>();
  if (!entities[0]) return null;
  const k = raw[0];
  return {
    account: entities[0],
    key: { id: k.k_id, name: k.k_name, role: k.k_role },
    touchedAt: k.k_last_used_at?.getTime() ?? 0,
  };
}

/**
 * Resolves `Authorization: Bearer <apiKey>` to its account and key, and checks the key's role allows
 * the operation (403 naming the role needed); every route below it is scoped to that account.
 */
export function requireAccount(db: DataSource) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = bearer(req);
    if (!key) throw failure(req, 'missing Authorization: Bearer <apiKey>');
    const hash = hashApiKey(key);
    const now = Date.now();
    let hit = cache.get(hash);
    if (!hit || hit.until <= now) {
      const found = await lookup(db, hash);
      if (!found) {
        cache.delete(hash);
        throw failure(req, 'invalid API key');
      }
      if (cache.size > 10_000) cache.clear();
      hit = { ...found, until: now + AUTH_CACHE_MS };
      cache.set(hash, hit);
    }
    // lastUsedAt: at most one write a minute per key and process, off the request's path.
    if (now - hit.touchedAt > TOUCH_MS) {
      hit.touchedAt = now;
      db.getRepository(ApiKeyEntity)
        .update({ id: hit.key.id }, { lastUsedAt: new Date(now) })
        .catch(() => undefined);
    }
    const needed = requiredRole(req.method, req.baseUrl + req.path);
    if (!roleAllows(hit.key.role, needed)) {
      throw new ApiError(
        403,
        'forbidden',
        `this operation needs a key with role "${needed}" (or "full"); this key's role is "${hit.key.role}"`,
      );
    }
    res.locals.account = hit.account;
    res.locals.key = hit.key;
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
      throw failure(req, 'missing or invalid admin token');
    }
    next();
  };
}

export const accountOf = (res: Response): Account => res.locals.account as Account;
export const keyOf = (res: Response): CallerKey => res.locals.key as CallerKey;
/** Who makes this request, for the audit trail. */
export const actorOf = (res: Response): Actor => ({ accountId: accountOf(res).id, keyId: keyOf(res).id });
