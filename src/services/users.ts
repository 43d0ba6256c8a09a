/** The account's users: the people events name (`userId`) and rules address (`{source: "user"}`). */
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { UserEntity, type User } from '../db/entities';
import { ApiError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { UserBody, UserPatch } from '../shared/schemas';
import { recordAudit, type AuditAction } from './audit';
import { paginate, type Page, type PageQuery } from './pagination';

export interface UserDto {
  id: string;
  externalId: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  attributes: Record<string, unknown>;
  preferences: User['preferences'];
  createdAt: string;
  updatedAt: string;
}

export function toUserDto(u: User): UserDto {
  return {
    id: u.id,
    externalId: u.externalId,
    name: u.name,
    email: u.email,
    phone: u.phone,
    timezone: u.timezone,
    attributes: u.attributes,
    preferences: u.preferences ?? {},
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
  };
}

const EDITABLE = ['externalId', 'name', 'email', 'phone', 'timezone', 'attributes', 'preferences'] as const;
const OBJECTS: readonly string[] = ['attributes', 'preferences'];
type Editable = Pick<User, (typeof EDITABLE)[number]>;

/** A full body: every field not sent is cleared. */
function fromBody(body: UserBody): Editable {
  return {
    externalId: body.externalId ?? null,
    name: body.name ?? null,
    email: body.email ?? null,
    phone: body.phone ?? null,
    timezone: body.timezone ?? null,
    attributes: body.attributes ?? {},
    preferences: body.preferences ?? {},
  };
}

/** A patch: only the fields sent; null clears one (attributes and preferences become {}). */
function fromPatch(patch: UserPatch): Partial<Editable> {
  const out: Partial<Record<(typeof EDITABLE)[number], unknown>> = {};
  for (const key of EDITABLE) {
    if (patch[key] !== undefined) out[key] = OBJECTS.includes(key) ? (patch[key] ?? {}) : patch[key];
  }
  return out as Partial<Editable>;
}

const isUniqueViolation = (err: unknown) =>
  err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === '23505';

export class UserService {
  constructor(private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(UserEntity);
  }

  /** externalId is unique per account: a clash is a 409 naming the user that has it. */
  private async conflict(accountId: string, externalId: string | null | undefined): Promise<ApiError> {
    const other = externalId ? await this.repo.findOneBy({ accountId, externalId }) : null;
    return new ApiError(409, 'conflict', `externalId "${externalId}" is already used in this account`, [
      {
        path: 'externalId',
        message: other ? `already used by user ${other.id}` : 'already used by another user',
      },
    ]);
  }

  /** A change and its audit entry, in one transaction; a clash of externalId is a 409 after it. */
  private async change(
    accountId: string,
    keyId: string | null,
    action: AuditAction,
    externalId: string | null | undefined,
    write: (m: EntityManager) => Promise<{ id: string; before?: UserDto; after?: UserDto }>,
  ): Promise<UserDto | undefined> {
    try {
      return await this.db.transaction(async (m) => {
        const { id, before, after } = await write(m);
        await recordAudit(m, { accountId, keyId, entity: 'user', entityId: id, action, before, after });
        return after;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw await this.conflict(accountId, externalId);
      throw err;
    }
  }

  async create(accountId: string, body: UserBody, keyId: string | null = null): Promise<UserDto> {
    const id = newId('user');
    const user = await this.change(accountId, keyId, 'create', body.externalId, async (m) => {
      // jsonb `attributes` is typed loosely by TypeORM's deep-partial types.
      await m.getRepository(UserEntity).insert({ ...fromBody(body), id, accountId } as never);
      return { id, after: await this.get(accountId, id, m) };
    });
    return user!;
  }

  async get(accountId: string, id: string, m?: EntityManager, lock = false): Promise<UserDto> {
    const row = await (m ?? this.db.manager).getRepository(UserEntity).findOne({
      where: { accountId, id },
      ...(lock && { lock: { mode: 'pessimistic_write' as const } }),
    });
    if (!row) throw ApiError.notFound('user');
    return toUserDto(row);
  }

  list(accountId: string, filters: { externalId?: string }, page: PageQuery): Promise<Page<UserDto>> {
    const qb = this.repo.createQueryBuilder('u').where('u.account_id = :accountId', { accountId });
    if (filters.externalId !== undefined) {
      qb.andWhere('u.external_id = :externalId', { externalId: filters.externalId });
    }
    return paginate(qb, page, toUserDto);
  }

  private async update(
    accountId: string,
    id: string,
    values: Partial<Editable>,
    keyId: string | null,
  ): Promise<UserDto> {
    const user = await this.change(accountId, keyId, 'update', values.externalId, async (m) => {
      const before = await this.get(accountId, id, m, true);
      await m
        .getRepository(UserEntity)
        .createQueryBuilder()
        .update()
        .set({ ...values, updatedAt: () => 'now()' } as never)
        .where('account_id = :accountId AND id = :id', { accountId, id })
        .execute();
      return { id, before, after: await this.get(accountId, id, m) };
    });
    return user!;
  }

  replace(accountId: string, id: string, body: UserBody, keyId: string | null = null): Promise<UserDto> {
    return this.update(accountId, id, fromBody(body), keyId);
  }

  patch(accountId: string, id: string, patch: UserPatch, keyId: string | null = null): Promise<UserDto> {
    return this.update(accountId, id, fromPatch(patch), keyId);
  }

  async delete(accountId: string, id: string, keyId: string | null = null): Promise<void> {
    await this.change(accountId, keyId, 'delete', undefined, async (m) => {
      const before = await this.get(accountId, id, m, true);
      await m.getRepository(UserEntity).delete({ accountId, id });
      return { id, before };
    });
  }
}
