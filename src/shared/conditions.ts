/**
 * Condition evaluation with json-rules-engine, reading values through the safe path resolver.
 * It runs inside an activity (see activities/rules.ts), never in workflow code: its answer is then
 * recorded in history, so upgrading json-rules-engine can never change the outcome of a replayed run.
 */
import { Engine } from 'json-rules-engine';
import { resolvePath } from './paths';
import type { ConditionNode, ConditionTree } from './schemas';

export interface ConditionTrace {
  fact: string;
  path: string | null;
  operator: string;
  value: unknown;
  factValue: unknown;
  /** null when the engine did not need this condition to decide (short-circuit). */
  result: boolean | null;
}

export interface Evaluation {
  matched: boolean;
  conditions: ConditionTrace[];
}

interface EvaluatedNode {
  all?: EvaluatedNode[];
  any?: EvaluatedNode[];
  not?: EvaluatedNode;
  fact?: string;
  path?: string;
  operator?: string;
  value?: unknown;
  factResult?: unknown;
  result?: boolean;
}

function collect(node: EvaluatedNode, out: ConditionTrace[]): void {
  if (node.all) node.all.forEach((n) => collect(n, out));
  else if (node.any) node.any.forEach((n) => collect(n, out));
  else if (node.not) collect(node.not, out);
  else if (node.fact !== undefined) {
    out.push({
      fact: node.fact,
      path: node.path ?? null,
      operator: node.operator!,
      value: node.value,
      factValue: node.result === undefined ? null : (node.factResult ?? null),
      result: node.result ?? null,
    });
  }
}

export async function evaluateConditions(
  tree: ConditionTree,
  facts: Record<string, unknown>,
): Promise<Evaluation> {
  const engine = new Engine([], {
    allowUndefinedFacts: true,
    allowUndefinedConditions: false,
    // A missing value reads as null, so `notEqual null` means "is present" as rule authors expect.
    pathResolver: (value: unknown, path: string) => resolvePath(value, path) ?? null,
  });
  engine.addRule({ conditions: tree as never, event: { type: 'matched' }, name: 'rule' });
  const { results, failureResults } = await engine.run({ ...facts });
  const ruleResult = (results[0] ?? failureResults[0]) as unknown as { conditions: EvaluatedNode };
  const conditions: ConditionTrace[] = [];
  collect(ruleResult.conditions, conditions);
  return { matched: results.length > 0, conditions };
}

export type { ConditionNode };
