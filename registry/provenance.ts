// Provenance: the hashes a result or a compatibility test says produced it, and what the registry
// says they must be. A result's provenance names the benchmark's data preparator and metrics cube,
// the result's model, and the dataset's generated_uid; an association's compatibility test names
// the same cubes with the model it ran (the benchmark's reference model on a data owner's data, or
// the associated model on the benchmark's demo data) and that data's generated_uid. Each hash
// equals the registry's record of that cube or dataset (operational records never change their
// hashes, so the registry's record is the one that ran), so no hash is free text in disguise.
import type { CubeHash, CubeRecord, ResultRecord } from './records.ts';

/** The hashes a cube runs with, as a result's provenance records them. */
export function cubeProvenance(id: string, record: CubeRecord): CubeHash {
  return {
    id,
    config_sha256: (record.mlcube ?? record.container_config)!.sha256,
    ...(record.parameters ? { parameters_sha256: record.parameters.sha256 } : {}),
    ...(record.additional_files ? { additional_files_sha256: record.additional_files.sha256 } : {}),
    image: record.image.digest,
  };
}

export type CubeRole = keyof ResultRecord['provenance']['cubes'];

/** Where a record keeps the hashes that produced it, and what its author does when they are wrong. */
export interface HashBlock {
  /** The record's field: `provenance` (a result) or `compatibility_test` (an association). */
  field: 'provenance' | 'compatibility_test';
  /** What the block describes: "result", "compatibility test". */
  noun: string;
  /** What its author runs again to put it right. */
  again: string;
}

export const RESULT_PROVENANCE: HashBlock = { field: 'provenance', noun: 'result', again: 'run the benchmark again with `medperf-git run`' };
export const COMPATIBILITY_TEST: HashBlock = {
  field: 'compatibility_test',
  noun: 'compatibility test',
  again: 'run the compatibility test again (`medperf-git dataset associate`, or `medperf-git mlcube associate` for a model)',
};

const wanted = new WeakMap<CubeRecord, CubeHash>();

const HASH_FIELDS = ['config_sha256', 'parameters_sha256', 'additional_files_sha256', 'image'] as const;

/** One disagreement between a provenance entry and the registry, at a JSON pointer of the result. */
export interface ProvenanceProblem {
  pointer: string;
  message: string;
}

/**
 * What is wrong with the hashes of one cube role, added to `out`. `expected` is the cube the
 * registry says fills the role (`what` names the role in a message), and its record when it loads
 * (undefined: the references rule says why).
 */
export function cubeProvenanceProblems(
  block: HashBlock,
  role: CubeRole,
  what: string,
  got: CubeHash | undefined,
  expected: { id: string; record?: CubeRecord },
  out: ProvenanceProblem[],
): void {
  if (!got) {
    out.push({
      pointer: `/${block.field}/cubes`,
      message: `${block.field}.cubes has no ${role}: a ${block.noun} names every cube that produced it, here ${what} ${expected.id}; ${block.again}`,
    });
    return;
  }
  if (got.id !== expected.id) {
    out.push({
      pointer: `/${block.field}/cubes/${role}/id`,
      message: `${block.field}.cubes.${role}.id is ${got.id}, but ${what} is ${expected.id}: a ${block.noun} is produced by the registered cubes; ${block.again}`,
    });
    return;
  }
  if (!expected.record) return;
  // Thousands of results name the same few cubes: each cube's hashes are gathered once.
  let want = wanted.get(expected.record);
  if (!want || want.id !== expected.id) wanted.set(expected.record, (want = cubeProvenance(expected.id, expected.record)));
  for (const field of HASH_FIELDS) {
    if (got[field] === want[field]) continue;
    const at = `/${block.field}/cubes/${role}`;
    out.push({
      pointer: got[field] === undefined ? at : `${at}/${field}`,
      message:
        `${block.field}.cubes.${role}.${field} is ${got[field] ?? 'absent'}, but the registry's ${expected.id} has ${want[field] ?? 'none'}: ` +
        `the ${block.noun} was not produced by the registered cube; ${block.again}`,
    });
  }
}
