// immutability: what results were computed with never changes under them. An operational cube
// keeps its hashes and image digest, an operational dataset its hashes, and neither is deleted;
// operational never goes back to development; results are append-only: a rerun is a new version
// with a new execution time, never a silent edit, and a result is never deleted. A person's keys
// rotate as a new version that keeps every earlier signing key (results signed with them must
// still verify), and are never deleted. An admin who leaves registry.yaml's admins is kept in its
// former_admins, which never shrinks: the results they imported from a MedPerf server carry their
// signature, and must still verify.
import type { Finding } from '../findings.ts';
import type { CubeRecord, DatasetRecord, PersonRecord, RegistryConfig, ResultRecord } from '../records.ts';
import type { LoadedRecord, Rule } from '../view.ts';
import { includesLogin } from './ownership.ts';
import { isCommitteeRewrap } from './rewrap.ts';
import { findingAt } from './util.ts';

/** The fields of an operational cube that pin what runs, as JSON pointers, with their value. */
export function cubeHashes(c: CubeRecord): Array<[string, string | undefined]> {
  return [
    ['/mlcube/sha256', c.mlcube?.sha256],
    ['/container_config/sha256', c.container_config?.sha256],
    ['/parameters/sha256', c.parameters?.sha256],
    ['/additional_files/sha256', c.additional_files?.sha256],
    ['/private/age_recipient', c.private?.age_recipient],
    ['/private/additional_files_sha256', c.private?.additional_files_sha256],
    ['/image/digest', c.image.digest],
    ['/kind', c.kind],
  ];
}

/** The fields of an operational dataset that pin its data, as JSON pointers, with their value. */
export function datasetHashes(d: DatasetRecord): Array<[string, string | undefined]> {
  return [
    ['/input_data_hash', d.input_data_hash],
    ['/generated_uid', d.generated_uid],
    ['/data_preparation_mlcube', d.data_preparation_mlcube],
  ];
}

/**
 * Admins leaving registry.yaml: each must be kept in former_admins, and no former admin is dropped,
 * so the signatures of the results an admin imported keep a signer the registry vouches for.
 */
export function formerAdminFindings(old: RegistryConfig, now: RegistryConfig, at: (pointer: string, message: string) => Finding): Finding[] {
  const out: Finding[] = [];
  const former = now.former_admins ?? [];
  const left = old.admins.filter((a) => !includesLogin(now.admins, a) && !includesLogin(former, a));
  if (left.length) {
    out.push(
      at(
        '/admins',
        `${left.join(', ')} ${left.length === 1 ? 'leaves' : 'leave'} the admins: add ${left.length === 1 ? 'it' : 'them'} to former_admins, ` +
          `which keeps the results an admin imported from a MedPerf server verifying (a former admin approves nothing and signs no new result)`,
      ),
    );
  }
  const dropped = (old.former_admins ?? []).filter((a) => !includesLogin(former, a) && !includesLogin(now.admins, a));
  if (dropped.length) {
    out.push(
      at(
        now.former_admins ? '/former_admins' : '',
        `former_admins only grows: results imported by ${dropped.join(', ')} are verified with it; keep ${dropped.length === 1 ? 'that login' : 'those logins'} in former_admins`,
      ),
    );
  }
  return out;
}

/** `/mlcube/sha256` reads as `mlcube.sha256` in a message. */
const field = (pointer: string) => pointer.slice(1).replace(/\//g, '.');

/**
 * A rotation: the next version, and every earlier signing key kept in order with the one it
 * replaces added last, so the record always holds the key of each of its versions.
 */
export function rotationFindings(old: PersonRecord, now: PersonRecord, at: (pointer: string, message: string) => Finding): Finding[] {
  const out: Finding[] = [];
  if (now.version !== old.version + 1) {
    out.push(at('/version', `keys rotate as a new version: the version after ${old.version} is ${old.version + 1}, not ${now.version}`));
  }
  const expected = [...(old.earlier_signing_keys ?? []), { version: old.version, signing_key: old.signing_key }];
  const kept = now.earlier_signing_keys ?? [];
  const same = kept.length === expected.length && expected.every((e, i) => kept[i]?.version === e.version && kept[i]?.signing_key === e.signing_key);
  if (!same) {
    out.push(
      at(
        kept.length ? '/earlier_signing_keys' : '',
        `earlier_signing_keys keeps every earlier signing key so results signed with them still verify: it must list ${expected.map((e) => `version ${e.version}`).join(', ')} ` +
          `with their keys as published (\`medperf-git keys publish\` writes it)`,
      ),
    );
  }
  return out;
}

export const rule: Rule = {
  id: 'immutability',
  async check(ctx) {
    const { base, head } = ctx;
    if (!base) return [];
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      const before = await base.record(path);
      if (!before) {
        // Added: a result's first run is version 1, so a version carries nothing a data owner chose.
        if (await base.tree.has(path)) continue; // not a valid record on the base
        const added = await head.record(path);
        if (added?.where.kind === 'result' && (added.data as ResultRecord).version !== 1) {
          const v = (added.data as ResultRecord).version;
          out.push(findingAt('immutability', path, added, '/version', `a new result is version 1 (its reruns are 2, 3, ...), not ${v}: set version: 1`));
        }
        continue;
      }
      const after = await head.record(path);
      if (!after) {
        if (await head.tree.has(path)) continue; // invalid now: the schema rule says why
        const kind = before.where.kind;
        if ((kind === 'cube' || kind === 'dataset') && (before as LoadedRecord<'cube'>).data.state === 'operational') {
          out.push(
            findingAt('immutability', path, undefined, '', `an operational ${kind} is never deleted: results and benchmarks depend on ${path}`),
          );
        } else if (kind === 'result') {
          out.push(
            findingAt('immutability', path, undefined, '', `results are append-only: ${path} may not be deleted; submit a new version instead`),
          );
        } else if (kind === 'person') {
          out.push(
            findingAt('immutability', path, undefined, '', `published keys are never deleted: results signed with them are verified with ${path}; rotate with \`medperf-git keys init --rotate\` and \`medperf-git keys publish\` instead`),
          );
        }
        continue;
      }
      const report = (pointer: string, message: string) => out.push(findingAt('immutability', path, after, pointer, message));

      if (after.where.kind === 'cube' || after.where.kind === 'dataset' || after.where.kind === 'benchmark') {
        const was = (before.data as { state: string }).state;
        const is = (after.data as { state: string }).state;
        if (was === 'operational' && is !== 'operational') {
          report('/state', `an operational ${after.where.kind} never goes back to ${is}`);
        }
        if (was === 'operational' && after.where.kind !== 'benchmark') {
          const pairs =
            after.where.kind === 'cube'
              ? [cubeHashes(before.data as CubeRecord), cubeHashes(after.data as CubeRecord)]
              : [datasetHashes(before.data as DatasetRecord), datasetHashes(after.data as DatasetRecord)];
          const [old, now] = pairs as [Array<[string, string | undefined]>, Array<[string, string | undefined]>];
          now.forEach(([pointer, value], i) => {
            const previous = old[i]![1];
            if (value === previous) return;
            report(
              value === undefined ? '' : pointer,
              `${field(pointer)} of an operational ${after.where.kind} never changes (was ${previous ?? 'absent'}, now ${value ?? 'absent'}): ` +
                `submit a new ${after.where.kind} instead`,
            );
          });
        }
      } else if (after.where.kind === 'registry') {
        out.push(...formerAdminFindings(before.data as RegistryConfig, after.data as RegistryConfig, (pointer, message) => findingAt('immutability', path, after, pointer, message)));
      } else if (after.where.kind === 'person') {
        out.push(...rotationFindings(before.data as PersonRecord, after.data as PersonRecord, (pointer, message) => findingAt('immutability', path, after, pointer, message)));
      } else if (after.where.kind === 'result') {
        const old = before.data as ResultRecord;
        const now = after.data as ResultRecord;
        // A committee member's re-wrap keeps the version: it is the same result, encrypted anew.
        if (ctx.author && (await isCommitteeRewrap(base, after.where.benchmark, old, now, ctx.author))) continue;
        if (now.version !== old.version + 1) {
          report(
            '/version',
            `results are append-only: a rerun of version ${old.version} must be version ${old.version + 1}, not ${now.version}`,
          );
        }
        if (now.provenance.executed_at === old.provenance.executed_at) {
          report(
            '/provenance/executed_at',
            `results are append-only: a new version needs the time of its new run, but provenance.executed_at is still ${old.provenance.executed_at}`,
          );
        }
      }
    }
    return out;
  },
};
