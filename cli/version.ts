import { readFileSync } from 'node:fs';
import { packagePath } from '../registry/package-root.ts';

export const VERSION: string = (
  JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }
).version;
