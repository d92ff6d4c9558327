// What a loaded cube is, and what can be read of it without parsing anything: the part of
// config.ts a cluster job needs (its cubes come loaded in the job's spec), so that a job does not
// load the YAML parser and the schemas config.ts reads cube configurations with.
import { MedperfError } from '../../registry/errors.ts';
import type { ContainerConfig, MlcubeConfig } from '../../registry/records.ts';

export class CubeConfigError extends MedperfError {
  constructor(message: string) {
    super('cube-config-invalid', message);
  }
}

export type CubeFormat = 'mlcube' | 'container-config';

export interface LoadedCube {
  /** The cube's folder (where mlcube.yaml or container_config.yaml is). */
  dir: string;
  configPath: string;
  format: CubeFormat;
  mlcube?: MlcubeConfig;
  containerConfig?: ContainerConfig;
  /** MLCube's workspace: relative defaults resolve against it. */
  workspace: string;
  /** parameters.yaml, when the cube has one. */
  parametersFile?: string;
  /** additional_files/, when the cube has one. */
  additionalFiles?: string;
}

/** A cube to run: its folder (mlcube.yaml or container_config.yaml, workspace/), name and pinned image. */
export interface CubeUnderTest {
  /** The cube's folder (mlcube.yaml or container_config.yaml, workspace/). */
  dir: string;
  /** How it is named in messages and logs: a cube id or a folder. */
  label: string;
  /** The image id or digest the cube's record pins, checked before running. */
  imageDigest?: string;
}

/** The container image a cube names (docker platform for MLCube, `image` for container configs). */
export function cubeImage(cube: LoadedCube): string | undefined {
  if (cube.containerConfig) return cube.containerConfig.image;
  return (cube.mlcube?.docker as { image?: string } | undefined)?.image;
}

