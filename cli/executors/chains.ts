// The chains of cube tasks an executor runs as one unit, by name, so the same code runs in the
// CLI (local executor) and in a cluster job on a node (`medperf-git job run`): their inputs are
// plain JSON, their outputs too. Each chain's module loads when it runs: a job on a node loads
// only what its one chain needs.
import type { CompatibilityOptions, CompatibilityResult } from '../compatibility.ts';
import type { ExecuteOptions, ExecutionOutcome } from '../cube/execute.ts';
import type { LocalDataset, PrepareOptions, PrepareOutcome } from '../datasets.ts';
import type { Execution } from '../results.ts';
import type { Runner } from '../runners/runner.ts';

type Serializable<T> = Omit<T, 'runner' | 'onStatus' | 'stateDir'>;

export interface ChainTypes {
  /** A model's infer, then the evaluator's evaluate (MedPerf's benchmark execution of one model). */
  'execute-model': { input: { execution: Execution; options: Serializable<ExecuteOptions> }; output: ExecutionOutcome };
  /** The preparator's prepare, sanity_check and statistics on a dataset. */
  'prepare-dataset': { input: { dataset: LocalDataset; options: Serializable<PrepareOptions> }; output: PrepareOutcome };
  /** MedPerf's compatibility test. */
  'compatibility-test': { input: Serializable<CompatibilityOptions>; output: CompatibilityResult };
}

export type ChainKind = keyof ChainTypes;
export type ChainInput<K extends ChainKind> = ChainTypes[K]['input'];
export type ChainOutput<K extends ChainKind> = ChainTypes[K]['output'];

export const CHAIN_KINDS = ['execute-model', 'prepare-dataset', 'compatibility-test'] as const satisfies readonly ChainKind[];

/** Runs a chain here, with this machine's runner. */
export async function runChain<K extends ChainKind>(
  kind: K,
  input: ChainInput<K>,
  context: { stateDir: string; runner: Runner; onStatus?: (line: string) => void },
): Promise<ChainOutput<K>> {
  const common = { stateDir: context.stateDir, runner: context.runner, onStatus: context.onStatus };
  if (kind === 'execute-model') {
    const { execution, options } = input as ChainInput<'execute-model'>;
    const { executeModel } = await import('../cube/execute.ts');
    return (await executeModel(execution, { ...options, ...common })) as ChainOutput<K>;
  }
  if (kind === 'prepare-dataset') {
    const { dataset, options } = input as ChainInput<'prepare-dataset'>;
    const { prepareDataset } = await import('../datasets.ts');
    return (await prepareDataset(dataset, { ...options, ...common })) as ChainOutput<K>;
  }
  const { runCompatibilityTest } = await import('../compatibility.ts');
  return (await runCompatibilityTest({ ...(input as ChainInput<'compatibility-test'>), ...common })) as ChainOutput<K>;
}
