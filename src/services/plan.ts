/**
 * Decides what one rule does for one event: loads the `user` fact, evaluates the conditions and
 * renders every action. The prepareRun activity and the dry-run endpoint both call this, so a dry run
 * shows exactly what a real run would send.
 */
import type { DataSource } from 'typeorm';
import { EmailTemplateEntity, UserEntity, type User } from '../db/entities';
import { evaluateConditions } from '../shared/conditions';
import { resolvePath } from '../shared/paths';
import type { ConditionResult, RenderedAction, UnrenderableAction } from '../shared/run-types';
import { emailSchema, phoneSchema, type Action, type Recipient, type Rule } from '../shared/schemas';
import { renderJson, renderTemplate, stringify } from '../shared/templates';

export interface PlanEvent {
  id?: string;
  name: string;
  occurredAt?: string;
  userId?: string;
  payload: Record<string, unknown>;
}

export interface Plan {
  matched: boolean;
  conditions: ConditionResult[];
  actions: (RenderedAction | UnrenderableAction)[];
  /** null when the event names no user. */
  userFound: boolean | null;
}

export function userFact(u: User) {
  return {
    id: u.id,
    externalId: u.externalId,
    name: u.name,
    email: u.email,
    phone: u.phone,
    timezone: u.timezone,
    attributes: u.attributes,
  };
}

export async function findUser(
  db: DataSource,
  accountId: string,
  idOrExternalId: string,
): Promise<User | null> {
  return db
    .getRepository(UserEntity)
    .createQueryBuilder('u')
    .where('u.account_id = :accountId', { accountId })
    .andWhere('(u.id = :ref OR u.external_id = :ref)', { ref: idOrExternalId })
    .orderBy('u.id = :ref', 'DESC')
    .getOne();
}

/** The facts a rule sees: the payload's top-level keys, plus `event` and `user`. */
export function buildFacts(
  event: PlanEvent,
  user: ReturnType<typeof userFact> | null,
): Record<string, unknown> {
  return {
    ...event.payload,
    event: {
      id: event.id ?? null,
      name: event.name,
      occurredAt: event.occurredAt ?? null,
      userId: event.userId ?? null,
    },
    user,
  };
}

function resolveRecipient(r: Recipient, facts: Record<string, unknown>): string {
  if (typeof r === 'string') return r;
  const value =
    r.source === 'fact'
      ? resolvePath(facts[r.fact], r.path)
      : (facts.user as Record<string, unknown> | null)?.[r.field];
  return stringify(value);
}

class RenderError extends Error {}

/** The event user's id when `to` is that user's own phone or email: their preferences then apply. */
function ownAddressOf(
  facts: Record<string, unknown>,
  field: 'phone' | 'email',
  to: string,
): string | undefined {
  const user = facts.user as { id?: string; phone?: string | null; email?: string | null } | null;
  const own = user?.[field];
  if (!user?.id || !own) return undefined;
  return (field === 'email' ? own.toLowerCase() === to.toLowerCase() : own === to) ? user.id : undefined;
}

function checkRecipient(value: string, kind: 'phone' | 'email'): string {
  if (!value) throw new RenderError(`recipient is empty for this event`);
  const ok = (kind === 'phone' ? phoneSchema : emailSchema).safeParse(value).success;
  if (!ok)
    throw new RenderError(
      `recipient "${value}" is not a valid ${kind === 'phone' ? 'E.164 phone number' : 'email address'}`,
    );
  return value;
}

async function renderAction(
  db: DataSource,
  accountId: string,
  action: Action,
  index: number,
  facts: Record<string, unknown>,
): Promise<RenderedAction> {
  switch (action.type) {
    case 'sms': {
      const to = checkRecipient(resolveRecipient(action.params.recipient, facts), 'phone');
      const userId = ownAddressOf(facts, 'phone', to);
      return {
        index,
        type: 'sms',
        to,
        body: renderTemplate(action.params.message, facts),
        ...(userId && { userId }),
      };
    }
    case 'email': {
      const p = action.params;
      const stored = p.templateId
        ? await db.getRepository(EmailTemplateEntity).findOneBy({ accountId, id: p.templateId })
        : null;
      if (p.templateId && !stored) throw new RenderError(`template "${p.templateId}" no longer exists`);
      const subject = p.subject ?? stored!.subject;
      const text = p.text ?? (p.html ? undefined : stored?.text) ?? undefined;
      const html = p.html ?? (p.text ? undefined : stored?.html) ?? undefined;
      const to = checkRecipient(resolveRecipient(p.recipient, facts), 'email');
      const userId = ownAddressOf(facts, 'email', to);
      return {
        index,
        type: 'email',
        to,
        ...(userId && { userId }),
        ...(p.transactional && { transactional: true }),
        subject: renderTemplate(subject, facts),
        ...(text !== undefined && { text: renderTemplate(text, facts) }),
        ...(html !== undefined && { html: renderTemplate(html, facts, { html: true }) }),
      };
    }
    case 'webhook':
      return {
        index,
        type: 'webhook',
        url: action.params.url,
        method: action.params.method,
        payload: renderJson(action.params.payload, facts),
      };
  }
}

/** `preloaded` skips the user lookup when the caller already has the user (scheduled ticks page through them). */
export async function planRun(
  db: DataSource,
  accountId: string,
  rule: Rule,
  event: PlanEvent,
  preloaded?: User,
): Promise<Plan> {
  const user = preloaded ?? (event.userId ? await findUser(db, accountId, event.userId) : null);
  const facts = buildFacts(event, user ? userFact(user) : null);
  const evaluation = await evaluateConditions(rule.conditions, facts);
  const actions = await Promise.all(
    rule.actions.map((action, index) =>
      renderAction(db, accountId, action, index, facts).catch((err: unknown) => {
        if (err instanceof RenderError) return { index, type: action.type, error: err.message };
        throw err;
      }),
    ),
  );
  return {
    matched: evaluation.matched,
    conditions: evaluation.conditions,
    actions,
    userFound: event.userId ? user !== null : null,
  };
}
