/** The account's users: the people events name (`userId`) and rules address (`{source: "user"}`). */
import { QueryFailedError, type DataSource } from 'typeorm';
import { UserEntity, type User } from '../db/entities';
import { ApiError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { UserBody, UserPatch } from '../shared/schemas';
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

  async create(accountId: string, body: UserBody): Promise<UserDto> {
    const id = newId('user');
    try {
      // jsonb `attributes` is typed loosely by TypeORM's deep-partial types.
      await this.repo.insert({ ...fromBody(body), id, accountId } as never);
    } catch (err) {
      if (isUniqueViolation(err)) throw await this.conflict(accountId, body.externalId);
      throw err;
    }
    return this.get(accountId, id);
  }

  async get(accountId: string, id: string): Promise<UserDto> {
    const row = await this.repo.findOneBy({ accountId, id });
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

  private async update(accountId: string, id: string, values: Partial<Editable>): Promise<UserDto> {
    try {
      const result = await this.repo
        .createQueryBuilder()
        .update()
        .set({ ...values, updatedAt: () => 'now()' } as never)
        .where('account_id = :accountId AND id = :id', { accountId, id })
        .execute();
      if (!result.affected) throw ApiError.notFound('user');
    } catch (err) {
      if (isUniqueViolation(err)) throw await this.conflict(accountId, values.externalId);
      throw err;
    }
    return this.get(accountId, id);
  }

  replace(accountId: string, id: string, body: UserBody): Promise<UserDto> {
    return this.update(accountId, id, fromBody(body));
  }

  patch(accountId: string, id: string, patch: UserPatch): Promise<UserDto> {
    return this.update(accountId, id, fromPatch(patch));
  }

  async delete(accountId: string, id: string): Promise<void> {
    const result = await this.repo.delete({ accountId, id });
    if (!result.affected) throw ApiError.notFound('user');
  }
}
