/**
 * The one validation module: the API, the dry run and the activities all check rules here, with
 * messages that name the field (`actions[0].params.recipient: required`).
 */
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { EmailTemplateEntity } from '../db/entities';
import { ApiError, formatPath, type ErrorDetail } from '../shared/errors';
import { refuseHost, type AllowList } from '../shared/net';
import { ruleBodySchema, type RuleBody } from '../shared/schemas';

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw ApiError.validation(
    parsed.error.issues.map((i) => ({
      path: formatPath(i.path),
      message: i.code === 'invalid_type' && i.input === undefined ? 'required' : i.message,
    })),
  );
}

export interface RuleContext {
  db: DataSource;
  accountId: string;
  allowedHosts: AllowList;
}

/** Checks what a schema cannot: webhook targets against the allow list, and that templates exist. */
export async function ruleProblems(rule: RuleBody, ctx: RuleContext): Promise<ErrorDetail[]> {
  const problems: ErrorDetail[] = [];
  for (const [i, action] of rule.actions.entries()) {
    if (action.type === 'webhook') {
      const refused = refuseHost(new URL(action.params.url).hostname, ctx.allowedHosts);
      if (refused) problems.push({ path: `actions[${i}].params.url`, message: refused });
    }
    if (action.type === 'email' && action.params.templateId) {
      const exists = await ctx.db
        .getRepository(EmailTemplateEntity)
        .existsBy({ accountId: ctx.accountId, id: action.params.templateId });
      if (!exists) {
        problems.push({
          path: `actions[${i}].params.templateId`,
          message: `no template "${action.params.templateId}"`,
        });
      }
    }
  }
  return problems;
}

export async function validateRule(input: unknown, ctx: RuleContext): Promise<RuleBody> {
  if (input && typeof input === 'object' && 'accountId' in input) {
    throw ApiError.validation([
      { path: 'accountId', message: 'comes from the API key and must not be sent' },
    ]);
  }
  const rule = parseOrThrow(ruleBodySchema, input);
  const problems = await ruleProblems(rule, ctx);
  if (problems.length) throw ApiError.validation(problems);
  return rule;
}
