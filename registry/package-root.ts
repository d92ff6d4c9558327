// The package's own folder, where package.json, schemas/ and examples/ are: the folder above
// registry/ when running the sources, and the one above build/ when running the compiled CLI.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const above = fileURLToPath(new URL('..', import.meta.url));

export const PACKAGE_ROOT: string = import.meta.url.endsWith('.ts') ? above : join(above, '..');

/** A path inside the package: `packagePath('schemas')`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
