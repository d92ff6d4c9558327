// ownership: the author of a change owns every path it touches. Ownership comes from the path (the
// <owner> folder) and from the `owners` list of the record as it is on the base, so nobody makes a
// record theirs by adding themselves in the same change. Associations also belong to the
// benchmark's committee (they set priorities), results to the data owner, benchmark.yaml to its
// committee and the registry admins, registry.yaml and the registry's automation to the admins.
import type { Finding } from '../findings.ts';
import { isAuxiliaryPath, parseRecordPath } from '../layout.ts';
import type { LoadedRecord, RegistryView, Rule } from '../view.ts';
import { findingAt, orList } from './util.ts';

/** GitHub logins are case-insensitive. */
export function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function includesLogin(list: readonly string[], login: string): boolean {
  return list.some((l) => sameLogin(l, login));
}

/** Who may change a path, for a message and a check. `owners` first, then groups. */
interface Owners {
  logins: string[];
  /** How the message names them: "bob or the committee of chestxray (bench-committee, carol)". */
  text: string;
}

function committeeText(benchmark: string, committee: readonly string[]): string {
  return `the committee of ${benchmark} (${committee.join(', ')})`;
}

function adminsText(admins: readonly string[]): string {
  return `the registry admins (${admins.join(', ')})`;
}

async function committeeOf(base: RegistryView, head: RegistryView, benchmark: string): Promise<string[]> {
  // A benchmark added in the same change has no base record; its committee is as submitted, and
  // the gate makes an admin approve the whole change.
  const rec = (await base.benchmark(benchmark)) ?? (await head.benchmark(benchmark));
  return rec ? [...rec.data.committee] : [];
}

async function ownersOf(
  path: string,
  base: RegistryView,
  head: RegistryView,
  admins: readonly string[],
): Promise<Owners | undefined> {
  const where = parseRecordPath(path);
  if (!where) {
    if (!isAuxiliaryPath(path)) return undefined; // outside the layout: the layout rule's finding
    if (!admins.length) return undefined; // the registry's first change sets it up
    return { logins: [...admins], text: `only ${adminsText(admins)} may change it` };
  }
  const existed = await base.tree.has(path);
  switch (where.kind) {
    case 'registry':
      if (!existed) return undefined; // the registry's first commit
      return { logins: [...admins], text: `only ${adminsText(admins)} may change it` };
    case 'cube':
    case 'dataset': {
      const rec = (await base.record(path)) as LoadedRecord<'cube' | 'dataset'> | undefined;
      const logins = [where.owner, ...(rec?.data.owners ?? [])];
      return { logins, text: `it belongs to ${orList(logins)}` };
    }
    case 'result': {
      const dataset = await base.dataset(where.dataset);
      const logins = [where.owner, ...(dataset?.data.owners ?? [])];
      return { logins, text: `it belongs to the data owner ${orList(logins)}` };
    }
    case 'model-association':
    case 'dataset-association': {
      const entity =
        where.kind === 'model-association' ? await base.cube(where.model) : await base.dataset(where.dataset);
      const owners = [where.owner, ...(entity?.data.owners ?? [])];
      const committee = await committeeOf(base, head, where.benchmark);
      return {
        logins: [...owners, ...committee],
        text: `it belongs to ${orList([...owners, committeeText(where.benchmark, committee)])}`,
      };
    }
    case 'benchmark': {
      if (!existed) return undefined; // anyone submits a benchmark; an admin approves it (the gate)
      const rec = await base.benchmark(where.benchmark);
      const committee = rec ? [...rec.data.committee] : [];
      return {
        logins: [...committee, ...admins],
        text: `it belongs to ${committeeText(where.benchmark, committee)} and ${adminsText(admins)}`,
      };
    }
  }
}

export const rule: Rule = {
  id: 'ownership',
  async check(ctx) {
    const { base, author, head } = ctx;
    if (!base || !author) return [];
    const admins = (await base.registryConfig())?.admins ?? [];
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      const owners = await ownersOf(path, base, head, admins);
      if (!owners || includesLogin(owners.logins, author)) continue;
      const inHead = await head.tree.has(path);
      const verb = !inHead ? 'delete' : (await base.tree.has(path)) ? 'change' : 'add';
      out.push(findingAt('ownership', path, undefined, '', `${author} may not ${verb} ${path}: ${owners.text}`));
    }
    return out;
  },
};
