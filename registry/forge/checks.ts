// What a merge runs before it lands: the Action's validation of the change and its approval gate
// (registry/validate.ts and registry/gate.ts). The forge takes them as one object so a test can
// pass its own, and so the local forge refuses exactly what the Action refuses.
import { evaluateGate, type GateDecision, type GateInput } from '../gate.ts';
import { createView } from '../load.ts';
import { validateChange } from '../validate.ts';
import type { Finding } from '../findings.ts';
import type { FileTree, RegistryView } from '../view.ts';
import type { Forge } from './forge.ts';

export type { GateDecision };

export interface MergeChecks {
  validateChange(opts: { head: FileTree; base: FileTree; changed?: string[]; author?: string }): Promise<Finding[]>;
  evaluateGate(input: GateInput): Promise<GateDecision>;
  createView(tree: FileTree): RegistryView;
}

/** The registry core's validation and gate, as the Action runs them. */
export const registryChecks: MergeChecks = { validateChange, evaluateGate, createView };

/** What the Action would say about a PR now: its validation findings and its approval gate. */
export async function checkPull(
  forge: Forge,
  number: number,
  checks: MergeChecks = registryChecks,
): Promise<{ findings: Finding[]; gate: GateDecision }> {
  const pull = await forge.getPull(number);
  const [base, head, reviews] = await Promise.all([forge.pullBase(number), forge.pullTree(number), forge.reviews(number)]);
  let findings = await checks.validateChange({ head, base, changed: pull.paths, author: pull.author });
  if (!findings.length && forge.sealedFindings) findings = await forge.sealedFindings({ base, head, changed: pull.paths, author: pull.author });
  const gate = await checks.evaluateGate({
    base: checks.createView(base),
    head: checks.createView(head),
    changed: pull.paths,
    author: pull.author,
    reviews,
    headSha: pull.headSha,
  });
  return { findings, gate };
}
