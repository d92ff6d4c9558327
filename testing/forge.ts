// Test support shared by the forge tests: a stand-in for the registry core's validation and gate
// with the same contract, so forge behaviour is tested apart from the rules themselves.
import { load } from 'js-yaml';
import type { Finding } from '../registry/findings.ts';
import type { FileTree, RegistryView } from '../registry/view.ts';
import type { MergeChecks } from '../registry/forge/checks.ts';

/**
 * Validation: a file containing `invalid: true` is a schema finding. Gate: a change to
 * benchmarks/<b>/benchmark.yaml needs the approval of an admin from registry.yaml on base, other
 * than the author; anything else merges without approval.
 */
export const simpleChecks: MergeChecks = {
  async validateChange({ head, changed }) {
    const findings: Finding[] = [];
    for (const path of changed ?? []) {
      const bytes = await head.read(path);
      if (bytes && /^invalid: true$/m.test(bytes.toString('utf8'))) {
        findings.push({ path, line: 1, column: 1, rule: 'schema', message: 'must NOT have property invalid' });
      }
    }
    return findings;
  },
  async evaluateGate({ base, changed, author, reviews, headSha }) {
    const needsAdmin = changed.filter((p) => /^benchmarks\/[^/]+\/benchmark\.yaml$/.test(p));
    if (!needsAdmin.length) return { satisfied: true, requirements: [], autoMergeable: true, summary: 'no approval needed' };
    const bytes = await base.tree.read('registry.yaml');
    const admins = ((bytes ? load(bytes.toString('utf8')) : {}) as { admins?: string[] }).admins ?? [];
    const latest = new Map<string, string>();
    for (const r of reviews) if (r.login !== author) latest.set(r.login, r.commitId === headSha ? r.state : 'STALE');
    const approvedBy = admins.filter((a) => latest.get(a) === 'APPROVED');
    const met = approvedBy.length > 0;
    return {
      satisfied: met,
      requirements: [{ reason: 'benchmark changes need an admin', paths: needsAdmin, approvers: admins, approvedBy, met }],
      autoMergeable: false,
      summary: met ? `approved by ${approvedBy.join(', ')}` : `needs approval from an admin (${admins.join(', ')})`,
    };
  },
  createView(tree: FileTree): RegistryView {
    return { tree } as RegistryView;
  },
};

export const REGISTRY_YAML = 'title: Test registry\nadmins: [admin]\n';

export function benchmarkYaml(name: string): string {
  return `name: ${name}\ndescription: a benchmark\n`;
}
