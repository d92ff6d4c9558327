// The Docker engine's client (dockerode), loaded without what a connection to a local engine never
// uses: as they load, docker-modem loads an SSH client (ssh2, for ssh:// engines) and dockerode
// gRPC and protobuf (for BuildKit sessions), 120 of the 200 files dockerode brings and a tenth of
// a second of every command and cluster job that talks to Docker. Each of those two modules
// exports one function, called only for an ssh:// engine or a BuildKit build: it is loaded when
// first called instead.
import { createRequire } from 'node:module';
import type Dockerode from 'dockerode';

// Not named `require`: a bundler would take its calls for imports (cli/build-job.js leaves dockerode outside the job's bundle).
const nodeRequire = createRequire(import.meta.url);

/** The module (as required) and the file that requires it: docker-modem's SSH agent, dockerode's BuildKit session. */
const DEFERRED: Array<[string, RegExp]> = [
  ['./ssh', /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/],
  ['./session', /[\\/]dockerode[\\/]lib[\\/]docker\.js$/],
];

type ModuleLoader = { _load: (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown };

function loadDockerode(): typeof Dockerode {
  const loader = nodeRequire('node:module') as ModuleLoader;
  const load = loader._load;
  loader._load = function (request, parent, isMain) {
    if (!DEFERRED.some(([name, from]) => name === request && from.test(parent?.filename ?? ''))) return load.call(this, request, parent, isMain);
    let real: ((...args: unknown[]) => unknown) | undefined;
    return function (this: unknown, ...args: unknown[]) {
      real ??= load.call(loader, request, parent, false) as (...args: unknown[]) => unknown;
      return real.apply(this, args);
    };
  };
  try {
    return nodeRequire('dockerode') as typeof Dockerode;
  } finally {
    loader._load = load;
  }
}

/** dockerode's Docker class (its types: `import type Docker from 'dockerode'`). */
export const DockerClient = loadDockerode();
