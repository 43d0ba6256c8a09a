/** Email templates: the account's own slugs, referenced by email actions as `templateId`. */
import type { DataSource } from 'typeorm';
import { EmailTemplateEntity, type EmailTemplate } from '../db/entities';
import { ApiError } from '../shared/errors';
import type { TemplateBody } from '../shared/schemas';
import { paginate, type Page, type PageQuery } from './pagination';
import { RuleService } from './rules';

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
  ): Promise<{ template: TemplateDto; created: boolean }> {
    const rows: { inserted: boolean }[] = await this.db.query(
      `INSERT INTO email_templates (account_id, id, name, subject, text, html)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (account_id, id) DO UPDATE
         SET name = EXCLUDED.name, subject = EXCLUDED.subject, text = EXCLUDED.text,
             html = EXCLUDED.html, updated_at = now()
       RETURNING (xmax = 0) AS inserted`,
      [accountId, id, body.name, body.subject, body.text ?? null, body.html ?? null],
    );
    return { template: await this.get(accountId, id), created: rows[0].inserted };
  }

  async get(accountId: string, id: string): Promise<TemplateDto> {
    const row = await this.repo.findOneBy({ accountId, id });
    if (!row) throw ApiError.notFound('template');
    return toTemplateDto(row);
  }

  list(accountId: string, page: PageQuery): Promise<Page<TemplateDto>> {
    const qb = this.repo.createQueryBuilder('t').where('t.account_id = :accountId', { accountId });
    return paginate(qb, page, toTemplateDto);
  }

  /** Refused (409, naming the rules) while an email action uses the template: the rule could not run. */
  async delete(accountId: string, id: string): Promise<void> {
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
    const result = await this.repo.delete({ accountId, id });
    if (!result.affected) throw ApiError.notFound('template');
  }
}
