import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsYaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { buildTypes, TYPES_FILE } from '../schemas/build-types.ts';
import { RECORD_KINDS } from './layout.ts';
import { schemaId, schemas } from './schema-files.ts';
import { ajv, validateCubeConfig, validatorFor } from './schemas.ts';

const REAL = fileURLToPath(new URL('../testing/fixtures/real-mlcubes/', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

describe('schemas', () => {
  it('every schema in schemas/ compiles in strict mode', () => {
    expect(schemas.length).toBeGreaterThanOrEqual(10);
    for (const schema of schemas) {
      const id = String(schema.$id);
      expect(id).toMatch(/^urn:medperf-git:schema:/);
      expect(ajv().getSchema(id), id).toBeTypeOf('function');
    }
  });

  it('has a validator for every record kind and both cube config formats', () => {
    for (const kind of RECORD_KINDS) expect(validatorFor(kind)).toBe(ajv().getSchema(schemaId(kind)));
    expect(validateCubeConfig('mlcube', {}).map((e) => e.message)).toEqual(["must have required property 'tasks'"]);
    expect(validateCubeConfig('container-config', { container_type: 'DockerImage', image: 'x' }).map((e) => e.message)).toEqual([
      "must have required property 'tasks'",
    ]);
  });

  it('registry/records.ts is what `npm run types` generates from the schemas', async () => {
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(await buildTypes());
  });

  const configs = filesUnder(REAL).filter((f) => /(mlcube|container_config)\.yaml$/.test(f));
  it('covers the real MLCube and container configs, with their notice', () => {
    expect(configs.length).toBe(11);
    expect(readFileSync(join(REAL, 'NOTICE.md'), 'utf8')).toContain('Apache License 2.0');
  });

  for (const file of configs) {
    const rel = file.slice(REAL.length);
    it(`the real ${rel} validates unchanged`, () => {
      const data = jsYaml.load(readFileSync(file, 'utf8'));
      const format = file.endsWith('container_config.yaml') ? 'container-config' : 'mlcube';
      expect(validateCubeConfig(format, data)).toEqual([]);
    });
  }
});
