/**
 * Rule conditions: json-rules-engine's condition and its all/any/not tree, as the API accepts them.
 */
import { z } from 'zod';
import { factName, factPathProblem, safePath } from './schema-parts';

export const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;
const NUMERIC_OPERATORS = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);
const LIST_OPERATORS = new Set(['in', 'notIn']);

export const MAX_CONDITION_DEPTH = 5;

const scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);

export const conditionSchema = z
  .object({
    fact: factName,
    path: safePath.optional(),
    operator: z.enum(OPERATORS),
    value: z.union([scalar, z.array(scalar).max(100)]),
  })
  .strict()
  .superRefine((c, ctx) => {
    factPathProblem(c, ctx);
    if (NUMERIC_OPERATORS.has(c.operator) && typeof c.value !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `operator ${c.operator} needs a number` });
    }
    if (LIST_OPERATORS.has(c.operator) !== Array.isArray(c.value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: LIST_OPERATORS.has(c.operator)
          ? `operator ${c.operator} needs an array`
          : `operator ${c.operator} needs a single value`,
      });
    }
  })
  .meta({
    id: 'Condition',
    description: 'One json-rules-engine condition: the value at `path` of `fact`, compared with `value`.',
  });

export type Condition = z.infer<typeof conditionSchema>;
export type ConditionTree = { all: ConditionNode[] } | { any: ConditionNode[] } | { not: ConditionNode };
export type ConditionNode = Condition | ConditionTree;

const nodeSchema: z.ZodType<ConditionNode> = z
  .lazy(() => z.union([conditionSchema, treeSchema]))
  .meta({ id: 'ConditionNode' });
export const treeSchema: z.ZodType<ConditionTree> = z
  .lazy(() =>
    z.union([
      z.object({ all: z.array(nodeSchema).max(50) }).strict(),
      z.object({ any: z.array(nodeSchema).max(50) }).strict(),
      z.object({ not: nodeSchema }).strict(),
    ]),
  )
  .meta({
    id: 'ConditionTree',
    description: `A json-rules-engine condition tree rooted at all/any/not, at most ${MAX_CONDITION_DEPTH} levels deep.`,
  });

export function conditionDepth(node: ConditionNode): number {
  if ('all' in node) return 1 + Math.max(0, ...node.all.map(conditionDepth));
  if ('any' in node) return 1 + Math.max(0, ...node.any.map(conditionDepth));
  if ('not' in node) return 1 + conditionDepth(node.not);
  return 0;
}
