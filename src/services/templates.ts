/** Email templates: the account's own slugs, referenced by email actions as `templateId`. */
import type { DataSource, EntityManager } from 'typeorm';
import { EmailTemplateEntity, type EmailTemplate } from '../db/entities';
import { ApiError } from '../shared/errors';
import type { TemplateBody } from '../shared/schemas';
import { paginate, type Page, type PageQuery } from './pagination';
import { RuleService } from './rules';
import { recordAudit } from './audit';

export interface TemplateDto {
  id: string;
  name: string;
  subject: string;
  text: string | null;
  html: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toTemplateDto(t: EmailTemplate): TemplateDto {
  return {
    id: t.id,
    name: t.name,
    subject: t.subject,
    text: t.text,
    html: t.html,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

export class TemplateService {
  constructor(private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(EmailTemplateEntity);
  }

  /** Creates or replaces in one statement; `created` tells which (201 or 200). */
  async put(
    accountId: string,
    id: string,
    body: TemplateBody,
    keyId: string | null = null,
  ): Promise<{ template: TemplateDto; created: boolean }> {
    return this.db.transaction(async (m) => {
      // Locked, so the audit's `before` is the version this write replaces.
      const before = await this.find(accountId, id, m, true);
      const rows: { inserted: boolean }[] = await m.query(
        `INSERT INTO email_templates (account_id, id, name, subject, text, html)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, id) DO UPDATE
           SET name = EXCLUDED.name, subject = EXCLUDED.subject, text = EXCLUDED.text,
               html = EXCLUDED.html, updated_at = now()
         RETURNING (xmax = 0) AS inserted`,
        [accountId, id, body.name, body.subject, body.text ?? null, body.html ?? null],
      );
      const template = await this.get(accountId, id, m);
      const created = rows[0].inserted;
      await recordAudit(m, {
        accountId,
        keyId,
        entity: 'template',
        entityId: id,
        action: created ? 'create' : 'update',
        ...(before && { before }),
        after: template,
      });
      return { template, created };
    });
  }

  private async find(accountId: string, id: string, m?: EntityManager, lock = false) {
    const row = await (m ?? this.db.manager).getRepository(EmailTemplateEntity).findOne({
      where: { accountId, id },
      ...(lock && { lock: { mode: 'pessimistic_write' as const } }),
    });
    return row ? toTemplateDto(row) : null;
  }

  async get(accountId: string, id: string, m?: EntityManager): Promise<TemplateDto> {
    const template = await this.find(accountId, id, m);
    if (!template) throw ApiError.notFound('template');
    return template;
  }

  list(accountId: string, page: PageQuery): Promise<Page<TemplateDto>> {
    const qb = this.repo.createQueryBuilder('t').where('t.account_id = :accountId', { accountId });
    return paginate(qb, page, toTemplateDto);
  }

  /** Refused (409, naming the rules) while an email action uses the template: the rule could not run. */
  async delete(accountId: string, id: string, keyId: string | null = null): Promise<void> {
    await this.get(accountId, id);
    const users = await new RuleService(this.db).usingTemplate(accountId, id);
    if (users.length) {
      throw new ApiError(
        409,
        'conflict',
        `template "${id}" is used by ${users.length === 1 ? 'rule' : 'rules'} ${users.map((r) => r.id).join(', ')}; change or delete ${users.length === 1 ? 'it' : 'them'} first`,
        users.flatMap((r) =>
          r.actionIndexes.map((i) => ({
            path: `rules.${r.id}.actions[${i}].params.templateId`,
            message: `used by rule ${r.id} ("${r.name}")`,
          })),
        ),
      );
    }
    await this.db.transaction(async (m) => {
      const before = await this.find(accountId, id, m, true);
      if (!before) throw ApiError.notFound('template');
      await m.getRepository(EmailTemplateEntity).delete({ accountId, id });
      await recordAudit(m, { accountId, keyId, entity: 'template', entityId: id, action: 'delete', before });
    });
  }
}
