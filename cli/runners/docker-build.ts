// Building a cube author's image from the cube folder, as `mlcube configure` does: the Dockerfile
// at docker.build_file (default Dockerfile) inside docker.build_context (default the cube's folder),
// tagged with docker.image. Only a cube folder being tested is built; a registered cube's image is
// what its record pins, never rebuilt.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type Docker from 'dockerode';
import { MedperfError } from '../../registry/errors.ts';
import { followEngineStream } from './docker-pull.ts';

/** What MLCube's docker platform says about building the image. */
export interface CubeBuild {
  /** The cube's mlcube.yaml, for messages. */
  config: string;
  /** The build context folder (absolute, inside the cube's folder). */
  context: string;
  /** The Dockerfile, relative to the context. */
  dockerfile: string;
  /** MLCube's build_strategy: pull, auto, always or never. */
  strategy?: 'pull' | 'auto' | 'always' | 'never';
}

export class ImageBuildError extends MedperfError {
  constructor(message: string) {
    super('image-build-failed', message);
  }
}

const inside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
};

/**
 * The build a cube folder declares, or undefined when it declares none. A build is declared by
 * docker.build_context or docker.build_file, or by build_strategy auto or always (MLCube's
 * defaults then: the folder and its Dockerfile). Paths leaving the cube's folder are refused.
 */
export function declaredBuild(
  dir: string,
  config: string,
  docker: { build_context?: string; build_file?: string; build_strategy?: CubeBuild['strategy'] } | undefined,
): CubeBuild | undefined {
  if (!docker) return undefined;
  const strategy = docker.build_strategy;
  const declared = docker.build_context !== undefined || docker.build_file !== undefined || strategy === 'auto' || strategy === 'always';
  if (!declared || strategy === 'pull' || strategy === 'never') return undefined;
  const root = realpathSync(dir);
  const context = resolve(root, docker.build_context ?? '.');
  const file = resolve(context, docker.build_file ?? 'Dockerfile');
  for (const [field, path] of [['docker.build_context', context], ['docker.build_file', file]] as const) {
    const real = existsSync(path) ? realpathSync(path) : path;
    if (!inside(root, real)) throw new ImageBuildError(`${config}: ${field} leads to ${path}, outside the cube's folder ${root}; keep the build inside the cube`);
  }
  if (!existsSync(context) || !statSync(context).isDirectory()) throw new ImageBuildError(`${config}: docker.build_context ${docker.build_context ?? '.'} is not a folder (${context})`);
  if (!existsSync(file)) throw new ImageBuildError(`${config}: docker.build_file ${docker.build_file ?? 'Dockerfile'} does not exist (${file})`);
  const dockerfile = relative(realpathSync(context), realpathSync(file));
  if (!inside(realpathSync(context), realpathSync(file))) throw new ImageBuildError(`${config}: docker.build_file ${docker.build_file} is outside docker.build_context; Docker builds only from inside it`);
  return { config, context: realpathSync(context), dockerfile, ...(strategy ? { strategy } : {}) };
}

/**
 * Builds `image` from the cube's context (`docker build -t IMAGE -f FILE CONTEXT`); status lines
 * give each build step, and a failure quotes the build's last lines. Returns the built image's id.
 */
export async function buildCubeImage(docker: Docker, image: string, build: CubeBuild, options: { label: string; onStatus?: (line: string) => void }): Promise<string> {
  options.onStatus?.(`${options.label}: building ${image} from ${join(build.context, build.dockerfile)}`);
  const tar = await import('tar');
  const context = tar.c({ cwd: build.context, portable: true }, ['.']);
  const lines: string[] = [];
  try {
    const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, { t: image, dockerfile: build.dockerfile.split(sep).join('/'), rm: true, forcerm: true });
    await followEngineStream(docker, stream, (event: { stream?: string }) => {
      for (const line of (event.stream ?? '').split('\n').filter((l) => l.trim())) {
        lines.push(line);
        if (/^Step \d+\/\d+ :/.test(line)) options.onStatus?.(`${options.label}: build ${line}`);
      }
    });
  } catch (error) {
    const tail = lines.slice(-10).map((l) => `  | ${l}`).join('\n');
    throw new ImageBuildError(`${options.label}: building ${image} from ${build.config} failed: ${(error as Error).message.trim()}${tail ? `\nlast lines of the build:\n${tail}` : ''}`);
  }
  const id = (await docker.getImage(image).inspect()).Id;
  options.onStatus?.(`${options.label}: built ${image} (${id})`);
  return id;
}
