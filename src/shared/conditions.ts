/**
 * Condition evaluation with json-rules-engine, reading values through the safe path resolver.
 * It runs inside an activity (see activities/rules.ts), never in workflow code: its answer is then
 * recorded in history, so upgrading json-rules-engine can never change the outcome of a replayed run.
 */
import { Engine } from 'json-rules-engine';
import { factValue, resolvePath } from './paths';
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

/**
 * Every fact reaches the engine inside a box, and every condition carries a path (`$` for the whole
 * fact). json-rules-engine only calls the path resolver for object values and otherwise compares the
 * raw value, so without the box `{"fact":"job","path":"$.status"}` would compare a string `job` itself,
 * unlike templates. Boxed, every read goes through resolvePath, exactly as templates read.
 */
class Box {
  constructor(readonly value: unknown) {}
}

const WHOLE_FACT = '$';

function boxPaths(node: ConditionNode, facts: Set<string>): unknown {
  if ('all' in node) return { all: node.all.map((n) => boxPaths(n, facts)) };
  if ('any' in node) return { any: node.any.map((n) => boxPaths(n, facts)) };
  if ('not' in node) return { not: boxPaths(node.not, facts) };
  facts.add(node.fact);
  return { fact: node.fact, path: node.path ?? WHOLE_FACT, operator: node.operator, value: node.value };
}

function collect(node: EvaluatedNode, original: ConditionNode | undefined, out: ConditionTrace[]): void {
  const o = original as Record<string, unknown> | undefined;
  if (node.all) node.all.forEach((n, i) => collect(n, (o?.all as ConditionNode[])?.[i], out));
  else if (node.any) node.any.forEach((n, i) => collect(n, (o?.any as ConditionNode[])?.[i], out));
  else if (node.not) collect(node.not, o?.not as ConditionNode, out);
  else if (node.fact !== undefined) {
    out.push({
      fact: node.fact,
      path: typeof o?.path === 'string' ? o.path : null,
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
    pathResolver: (value: unknown, path: string) =>
      (value instanceof Box ? resolvePath(value.value, path) : undefined) ?? null,
  });
  const used = new Set<string>();
  engine.addRule({ conditions: boxPaths(tree, used) as never, event: { type: 'matched' }, name: 'rule' });
  const runtime = Object.create(null) as Record<string, Box>;
  for (const name of used) runtime[name] = new Box(factValue(facts, name));
  const { results, failureResults } = await engine.run(runtime);
  const ruleResult = (results[0] ?? failureResults[0]) as unknown as { conditions: EvaluatedNode };
  const conditions: ConditionTrace[] = [];
  collect(ruleResult.conditions, tree, conditions);
  return { matched: results.length > 0, conditions };
}

export type { ConditionNode };
