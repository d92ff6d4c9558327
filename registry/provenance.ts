// Provenance: the hashes a result says produced it, and what the registry says they must be. A
// result's provenance names the benchmark's data preparator and metrics cube, the result's model,
// and the dataset's generated_uid; each hash equals the registry's record of that cube or dataset
// (operational records never change their hashes, so the registry's record is the one that ran).
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

/** The roles of a result's cubes, in the order MedPerf runs them, with how a message names each. */
export const CUBE_ROLES: ReadonlyArray<{ role: CubeRole; what: string }> = [
  { role: 'data_preparation_mlcube', what: "the benchmark's data preparator" },
  { role: 'model', what: "the result's model" },
  { role: 'data_evaluator_mlcube', what: "the benchmark's metrics cube" },
];

const wanted = new WeakMap<CubeRecord, CubeHash>();

const HASH_FIELDS = ['config_sha256', 'parameters_sha256', 'additional_files_sha256', 'image'] as const;

/** One disagreement between a provenance entry and the registry, at a JSON pointer of the result. */
export interface ProvenanceProblem {
  pointer: string;
  message: string;
}

/**
 * What is wrong with the provenance of one cube role. `expected` is the cube the registry says
 * fills the role, and its record when it loads (undefined: the references rule says why).
 */
export function cubeProvenanceProblems(
  role: CubeRole,
  what: string,
  got: CubeHash | undefined,
  expected: { id: string; record?: CubeRecord },
): ProvenanceProblem[] {
  const at = `/provenance/cubes/${role}`;
  if (!got) {
    return [
      {
        pointer: '/provenance/cubes',
        message: `provenance.cubes has no ${role}: a result names every cube that produced it, here ${what} ${expected.id}; run the benchmark again with \`medperf-git run\``,
      },
    ];
  }
  if (got.id !== expected.id) {
    return [
      {
        pointer: `${at}/id`,
        message: `provenance.cubes.${role}.id is ${got.id}, but ${what} is ${expected.id}: a result is produced by the registered cubes; run the benchmark again with \`medperf-git run\``,
      },
    ];
  }
  if (!expected.record) return [];
  // Thousands of results name the same few cubes: each cube's hashes are gathered once.
  let want = wanted.get(expected.record);
  if (!want || want.id !== expected.id) wanted.set(expected.record, (want = cubeProvenance(expected.id, expected.record)));
  const out: ProvenanceProblem[] = [];
  for (const field of HASH_FIELDS) {
    if (got[field] === want[field]) continue;
    out.push({
      pointer: got[field] === undefined ? at : `${at}/${field}`,
      message:
        `provenance.cubes.${role}.${field} is ${got[field] ?? 'absent'}, but the registry's ${expected.id} has ${want[field] ?? 'none'}: ` +
        `the result was not produced by the registered cube; run the benchmark again with \`medperf-git run\``,
    });
  }
  return out;
}
