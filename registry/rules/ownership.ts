// ownership: the author of a change owns every path it touches. Ownership comes from the path (the
// <owner> folder) and from the `owners` list of the record as it is on the base, so nobody makes a
// record theirs by adding themselves in the same change. Associations also belong to the
// benchmark's committee (they set priorities), results to the data owner, benchmark.yaml to its
// committee and the registry admins, registry.yaml and the registry's automation (for a registry in
// a folder, the whole repository around it too) to the admins, people/<login>.yaml to that login
// alone, a private model's grants to the model's owners.
import type { Finding } from '../findings.ts';
import { isAuxiliaryPath, isOutsideRegistry, parseRecordPath, paths, sameLogin } from '../layout.ts';
import type { LoadedRecord, RegistryView, Rule } from '../view.ts';
import { isCommitteeRewrap } from './rewrap.ts';
import { findingAt, orList } from './util.ts';

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
  // the gate makes an admin approve the whole change. A benchmark on the base that does not load
  // has no committee anyone can read: never the one the change brings.
  const rec = (await base.benchmark(benchmark)) ?? ((await base.tree.has(paths.benchmark(benchmark))) ? undefined : await head.benchmark(benchmark));
  return rec ? [...rec.data.committee] : [];
}

/** The admins of the base, or why they cannot be read; none at all on a registry's first change. */
type Admins = { logins: string[]; unknown?: string; first: boolean };

async function adminsOf(base: RegistryView): Promise<Admins> {
  const config = await base.registryConfig();
  if (config) return { logins: [...config.admins], first: false };
  if (await base.tree.has(paths.registry())) {
    return { logins: [], first: false, unknown: 'registry.yaml on the base does not load, so its admins cannot be read: fix registry.yaml on main first' };
  }
  if ((await base.tree.list()).length === 0) return { logins: [], first: true };
  return { logins: [], first: false, unknown: 'the base has no registry.yaml, so its admins cannot be read: restore registry.yaml on main first' };
}

async function ownersOf(
  path: string,
  base: RegistryView,
  head: RegistryView,
  registryAdmins: Admins,
): Promise<Owners | undefined> {
  const where = parseRecordPath(path);
  const admins = registryAdmins.logins;
  const onlyAdmins = (): Owners =>
    registryAdmins.unknown ? { logins: [], text: registryAdmins.unknown } : { logins: [...admins], text: `only ${adminsText(admins)} may change it` };
  if (!where) {
    if (!isAuxiliaryPath(path)) return undefined; // outside the layout: the layout rule's finding
    if (registryAdmins.first) return undefined; // the registry's first change sets it up
    return onlyAdmins();
  }
  const existed = await base.tree.has(path);
  switch (where.kind) {
    case 'registry':
      if (registryAdmins.first) return undefined; // the registry's first commit
      return onlyAdmins();
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
    case 'model-grant': {
      // Only whoever holds the model's key can grant it: the cube's owners, as on the base.
      const cube = await base.cube(where.model);
      const logins = [where.owner, ...(cube?.data.owners ?? [])];
      return { logins, text: `grants of the model ${where.model} belong to its owner${logins.length > 1 ? 's' : ''} ${orList(logins)}` };
    }
    case 'person':
      // A person's keys are theirs alone: no admin or co-owner publishes keys in someone's name.
      return { logins: [where.login], text: `only ${where.login} publishes their own keys` };
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

/**
 * An association's `initiated_by` says who asked: the author of the change that adds it, and it
 * never changes afterwards (a committee member setting a priority keeps the owner's name).
 */
async function initiatedBy(path: string, base: RegistryView, head: RegistryView, author: string): Promise<Finding[]> {
  const where = parseRecordPath(path);
  if (where?.kind !== 'model-association' && where?.kind !== 'dataset-association') return [];
  const after = await head.record(path);
  if (!after) return [];
  const said = (after.data as { initiated_by: string }).initiated_by;
  if (await base.tree.has(path)) {
    const was = ((await base.record(path))?.data as { initiated_by?: string } | undefined)?.initiated_by;
    if (was === undefined || sameLogin(was, said)) return [];
    return [
      findingAt('ownership', path, after, '/initiated_by', `initiated_by never changes: it was ${was}, who asked for this association; set it back to ${was}`),
    ];
  }
  if (sameLogin(said, author)) return [];
  return [
    findingAt('ownership', path, after, '/initiated_by', `initiated_by is ${said}, but ${author} opens this association: initiated_by names who asks, so set it to ${author}`),
  ];
}

/** Whether the change modifies the result at `path` by a re-wrap its author, a committee member, may make (rules/rewrap.ts). */
async function rewrapBy(path: string, base: RegistryView, head: RegistryView, author: string): Promise<boolean> {
  const where = parseRecordPath(path);
  if (where?.kind !== 'result') return false;
  const before = (await base.record(path)) as LoadedRecord<'result'> | undefined;
  const after = (await head.record(path)) as LoadedRecord<'result'> | undefined;
  return Boolean(before && after && (await isCommitteeRewrap(base, where.benchmark, before.data, after.data, author)));
}

export const rule: Rule = {
  id: 'ownership',
  async check(ctx) {
    const { base, author, head } = ctx;
    if (!base || !author) return [];
    const admins = await adminsOf(base);
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      out.push(...(await initiatedBy(path, base, head, author)));
      const owners = await ownersOf(path, base, head, admins);
      if (!owners || includesLogin(owners.logins, author)) continue;
      if (await rewrapBy(path, base, head, author)) continue;
      // A file around the registry's folder is never read: whatever the change does to it, it changes it.
      const verb = isOutsideRegistry(path) ? 'change' : !(await head.tree.has(path)) ? 'delete' : (await base.tree.has(path)) ? 'change' : 'add';
      out.push(findingAt('ownership', path, undefined, '', `${author} may not ${verb} ${path}: ${owners.text}`));
    }
    return out;
  },
};
