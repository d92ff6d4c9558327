// Local state: one directory (default ~/.medperf-git, or $MEDPERF_GIT_HOME) holding the download
// cache, prepared datasets, predictions, local results, logs, profiles, each login's keys and the keys of the private models made here.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const STATE_ENV = 'MEDPERF_GIT_HOME';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env[STATE_ENV] || join(homedir(), '.medperf-git');
}

export const statePaths = (root: string) => ({
  root,
  cache: join(root, 'cache'),
  cubes: join(root, 'cubes'),
  datasets: join(root, 'datasets'),
  predictions: join(root, 'predictions'),
  results: join(root, 'results'),
  logs: join(root, 'logs'),
  forge: join(root, 'forge'),
  clones: join(root, 'clones'),
  profile: join(root, 'profile.yaml'),
  keys: join(root, 'keys'),
  modelKeys: join(root, 'model-keys'),
});

/** Whether a process of this host is running: what it left in the state directory may be in use. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
