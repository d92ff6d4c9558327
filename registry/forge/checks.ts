// What a merge runs before it lands: the Action's validation of the change and its approval gate
// (registry/validate.ts and registry/gate.ts). The forge takes them as one object so a test can
// pass its own, and so the local forge refuses exactly what the Action refuses.
import { evaluateGate, type GateDecision, type GateInput } from '../gate.ts';
import { createView } from '../load.ts';
import { validateChange } from '../validate.ts';
import type { Finding } from '../findings.ts';
import type { FileTree, RegistryView } from '../view.ts';

export type { GateDecision };

export interface MergeChecks {
  validateChange(opts: { head: FileTree; base: FileTree; changed?: string[]; author?: string }): Promise<Finding[]>;
  evaluateGate(input: GateInput): Promise<GateDecision>;
  createView(tree: FileTree): RegistryView;
}

/** The registry core's validation and gate, as the Action runs them. */
export const registryChecks: MergeChecks = { validateChange, evaluateGate, createView };
