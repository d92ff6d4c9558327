// The local executor: a chain runs in this process, through this machine's runner, with the
// resources applied by the runner itself (memory, CPUs, GPUs, per-task timeouts).
import type { Limits, Runner } from '../runners/runner.ts';
import { type ChainInput, type ChainKind, runChain } from './chains.ts';
import { type ChainOutcome, type ChainRequest, type Executor, taskLimits } from './executor.ts';

export class LocalExecutor implements Executor {
  readonly name = 'local' as const;
  readonly queuesAhead = false;

  constructor(
    readonly stateDir: string,
    readonly runner: Runner,
  ) {}

  async run<K extends ChainKind>(request: ChainRequest<K>): Promise<ChainOutcome<K>> {
    const { limits, taskLimits: perTask } = taskLimits(request.resources);
    const input = withLimits(request.kind, request.input, limits, perTask);
    return { value: await runChain(request.kind, input, { stateDir: this.stateDir, runner: this.runner, onStatus: request.onStatus }) };
  }

  /** Nothing is submitted: an interrupted local task removes its own container. */
  async cancelAll(): Promise<string[]> {
    return [];
  }
}

/** A chain's input with these runner limits over its own (and per-task limits, when given). */
export function withLimits<K extends ChainKind>(kind: K, chainInput: ChainInput<K>, limits: Limits, perTask?: Record<string, Limits>): ChainInput<K> {
  const input = chainInput as { options?: Record<string, unknown> } & Record<string, unknown>;
  const add = (into: Record<string, unknown>) => ({ ...into, limits: { ...(into.limits as object), ...limits }, ...(perTask ? { taskLimits: perTask } : {}) });
  return (kind === 'compatibility-test' ? add(input) : { ...input, options: add(input.options ?? {}) }) as ChainInput<K>;
}
