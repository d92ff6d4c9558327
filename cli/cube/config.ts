// A cube on disk: its mlcube.yaml (MLCube format) or container_config.yaml (MedPerf's newer
// format), validated against the schemas, with MedPerf's workspace conventions: parameters.yaml and
// additional_files/ in the cube's workspace (or beside the config, as MedPerf's tutorial ships them).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MedperfError } from '../../registry/errors.ts';
import type { ContainerConfig, MlcubeConfig } from '../../registry/records.ts';
import { describeSchemaErrors, validateCubeConfig } from '../../registry/schemas.ts';
import { parseRecordYaml, SourceMap } from '../../registry/yaml.ts';

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

const CONFIG_NAMES: Array<[string, CubeFormat]> = [
  ['mlcube.yaml', 'mlcube'],
  ['container_config.yaml', 'container-config'],
];

/** Reads and validates a config file; errors name the file, line and field. */
export function parseCubeConfig(path: string, format: CubeFormat, bytes = readFileSync(path)): MlcubeConfig | ContainerConfig {
  const parsed = parseRecordYaml(path, bytes);
  if (parsed.findings.length || parsed.data === undefined) {
    throw new CubeConfigError(parsed.findings.map((f) => `${f.path}:${f.line}:${f.column} ${f.message}`).join('\n'));
  }
  const errors = validateCubeConfig(format, parsed.data);
  if (errors.length) {
    const map = new SourceMap(parsed.text ?? '');
    const lines = describeSchemaErrors(format, errors).map((m) => {
      const p = map.locate(m.pointer);
      return `${path}:${p.line}:${p.column} ${m.message}`;
    });
    throw new CubeConfigError(lines.join('\n'));
  }
  return parsed.data as MlcubeConfig | ContainerConfig;
}

/** Loads the cube in `dir` (a folder holding mlcube.yaml or container_config.yaml, or the file itself). */
export function loadCube(dirOrFile: string): LoadedCube {
  let dir = dirOrFile;
  let found: [string, CubeFormat] | undefined;
  if (existsSync(dirOrFile) && statSync(dirOrFile).isFile()) {
    dir = dirname(dirOrFile);
    const name = basename(dirOrFile);
    found = [dirOrFile, name.startsWith('container_config') ? 'container-config' : 'mlcube'];
  } else {
    for (const [name, format] of CONFIG_NAMES) {
      if (existsSync(join(dir, name))) {
        found = [join(dir, name), format];
        break;
      }
    }
  }
  if (!found) throw new CubeConfigError(`${dir}: no mlcube.yaml or container_config.yaml in this folder`);
  const [configPath, format] = found;
  const config = parseCubeConfig(configPath, format);
  const workspace = join(dir, 'workspace');
  const firstExisting = (...paths: string[]) => paths.find((p) => existsSync(p));
  return {
    dir,
    configPath,
    format,
    ...(format === 'mlcube' ? { mlcube: config as MlcubeConfig } : { containerConfig: config as ContainerConfig }),
    workspace,
    parametersFile: firstExisting(join(workspace, 'parameters.yaml'), join(dir, 'parameters.yaml')),
    additionalFiles: firstExisting(join(workspace, 'additional_files'), join(dir, 'additional_files')),
  };
}

/** The container image a cube names (docker platform for MLCube, `image` for container configs). */
export function cubeImage(cube: LoadedCube): string | undefined {
  if (cube.containerConfig) return cube.containerConfig.image;
  return (cube.mlcube?.docker as { image?: string } | undefined)?.image;
}

export function cubeTasks(cube: LoadedCube): string[] {
  return Object.keys((cube.mlcube ?? cube.containerConfig)!.tasks);
}
