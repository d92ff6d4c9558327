// What a merge runs before it lands: the Action's validation of the change and its approval gate
// (registry/validate.ts and registry/gate.ts). The forge takes them as one object so a test can
// pass its own, and so the local forge refuses exactly what the Action refuses.
import type { Finding } from '../findings.ts';
import type { FileTree, RegistryView } from '../view.ts';
import type { Review } from './forge.ts';

export interface GateDecision {
  satisfied: boolean;
  requirements: Array<{ reason: string; paths: string[]; approvers: string[]; approvedBy: string[]; met: boolean }>;
  autoMergeable: boolean;
  summary: string;
}

export interface MergeChecks {
  validateChange(opts: { head: FileTree; base: FileTree; changed?: string[]; author?: string }): Promise<Finding[]>;
  evaluateGate(input: {
    base: RegistryView;
    head: RegistryView;
    changed: string[];
    author: string;
    reviews: Review[];
  }): Promise<GateDecision>;
  createView(tree: FileTree): RegistryView;
}

/** The registry core's validation and gate, as the Action runs them. */
export async function registryChecks(): Promise<MergeChecks> {
  // Loaded on first merge only: listing or reviewing PRs needs none of it.
  const load = (name: string) => import(new URL(`../${name}.ts`, import.meta.url).href) as Promise<Partial<MergeChecks>>;
  const [validate, gate, view] = await Promise.all([load('validate'), load('gate'), load('load')]);
  if (!validate.validateChange || !gate.evaluateGate || !view.createView) {
    throw new Error('the registry core does not export validateChange, evaluateGate and createView');
  }
  return { validateChange: validate.validateChange, evaluateGate: gate.evaluateGate, createView: view.createView };
}
