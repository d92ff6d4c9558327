import { describe, expect, it } from 'vitest';
import type { TaskPlan } from '../cube/plan.ts';
import { deviceRequests } from './docker.ts';
import { singularityArgv, singularityBuildArgv } from './singularity.ts';

const plan: TaskPlan = {
  task: 'infer',
  image: 'mlcommons/chestxray-tutorial-cnn:0.0.0',
  command: ['infer', '--data_path=/mlcube_io0', '--output_path=/mlcube_io1'],
  mounts: [
    { host: '/data/prepared', target: '/mlcube_io0', readOnly: true },
    { host: '/out/predictions', target: '/mlcube_io1', readOnly: false },
  ],
  parameters: [],
  environment: {},
  ignored: [],
};

describe('the Singularity/Apptainer command line', () => {
  it("is MedPerf's: run -eC with no network, read-only inputs, read-write outputs", () => {
    expect(singularityArgv('apptainer', plan, '/cache/cnn.sif')).toEqual([
      'apptainer', 'run', '-eC', '--net', '--network', 'none',
      '--bind', '/data/prepared:/mlcube_io0:ro',
      '--bind', '/out/predictions:/mlcube_io1:rw',
      '/cache/cnn.sif', 'infer', '--data_path=/mlcube_io0', '--output_path=/mlcube_io1',
    ]);
  });

  it('adds --nv for GPUs and uses exec for a custom entrypoint', () => {
    const argv = singularityArgv('singularity', { ...plan, entrypoint: ['python3.8'], command: ['/entrypoint.py', '--x=1'] }, '/c.sif', { gpus: true });
    expect(argv.slice(0, 2)).toEqual(['singularity', 'exec']);
    expect(argv).toContain('--nv');
    expect(argv.slice(-4)).toEqual(['/c.sif', 'python3.8', '/entrypoint.py', '--x=1']);
  });
});

describe('a missing .sif', () => {
  const pin = `sha256:${'c'.repeat(64)}`;
  it('is built from the pinned Docker image, as MedPerf does, into a partial file first', () => {
    expect(singularityBuildArgv('apptainer', '/cache/cnn.sif', { image: 'mlcommons/chestxray-tutorial-cnn:0.0.1', digest: pin })).toEqual([
      'apptainer', 'build', '/cache/cnn.sif.partial', `docker://mlcommons/chestxray-tutorial-cnn@${pin}`,
    ]);
    expect(singularityBuildArgv('singularity', '/c.sif', { image: 'a/b:1', digest: pin, reference: `docker.io/a/b@${pin}` })).toEqual([
      'singularity', 'build', '/c.sif.partial', `docker://docker.io/a/b@${pin}`,
    ]);
    // Unpinned (a cube author's own folder): the image as named.
    expect(singularityBuildArgv('apptainer', '/c.sif', { image: 'a/b:1' }).at(-1)).toBe('docker://a/b:1');
    expect(() => singularityBuildArgv('apptainer', '/c.sif', {})).toThrow('names no Docker image');
  });
});

describe("Docker's GPU requests", () => {
  it("accepts MedPerf's forms and nothing else", () => {
    expect(deviceRequests(undefined)).toBeUndefined();
    expect(deviceRequests(0)).toBeUndefined();
    expect(deviceRequests('all')).toEqual([{ Driver: '', Count: -1, Capabilities: [['gpu']] }]);
    expect(deviceRequests('2')).toEqual([{ Driver: '', Count: 2, Capabilities: [['gpu']] }]);
    expect(deviceRequests('device=1,3')).toEqual([{ Driver: '', DeviceIDs: ['1', '3'], Capabilities: [['gpu']] }]);
    expect(() => deviceRequests('--privileged')).toThrow(/--gpus --privileged: say all, a number, or device=0,1/);
  });
});

describe('--runner singularity', () => {
  it('is chosen by name, and says what to do when the image has no .sif yet', async () => {
    const { chooseRunner, sifFile } = await import('../execution.ts');
    const runner = await chooseRunner('singularity', '/state', () => {});
    expect(runner.name).toBe('singularity');
    expect(sifFile('/state', 'mlcommons/cnn:0.0.1')).toBe('/state/cache/sif/mlcommons_cnn_0.0.1.sif');
    const request = { plan, logFile: '/state/logs/x.log', label: 'cnn infer' } as unknown as Parameters<typeof runner.run>[0];
    const error = await runner.run(request).catch((e: Error & { code?: string }) => e);
    expect(['singularity-missing', 'sif-missing']).toContain((error as { code?: string }).code);
  });

  it('is refused with the runners one may name', async () => {
    const { chooseRunner } = await import('../execution.ts');
    await expect(chooseRunner('podman', '/state', () => {})).rejects.toThrow('--runner podman: say docker, singularity, process or auto');
  });
});
