// A cube on disk: its mlcube.yaml (MLCube format) or container_config.yaml (MedPerf's newer
// format), validated against the schemas, with MedPerf's workspace conventions: parameters.yaml and
// additional_files/ in the cube's workspace (or beside the config, as MedPerf's tutorial ships them).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ContainerConfig, MlcubeConfig } from '../../registry/records.ts';
import { CubeConfigError, type CubeFormat, type LoadedCube } from './cube.ts';
import { describeSchemaErrors, validateCubeConfig } from '../../registry/schemas.ts';
import { parseRecordYaml, SourceMap } from '../../registry/yaml.ts';

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

export function cubeTasks(cube: LoadedCube): string[] {
  return Object.keys((cube.mlcube ?? cube.containerConfig)!.tasks);
}
