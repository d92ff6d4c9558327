import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCube } from './config.ts';
import { dockerRunArgv, outputDirs, planTask, shellSplit } from './plan.ts';

const REAL = fileURLToPath(new URL('../../testing/fixtures/real-mlcubes/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'plan-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A real cube laid out as MedPerf stores it: mlcube.yaml, and workspace/ with parameters.yaml. */
function stage(name: string, files: Record<string, string> = {}): string {
  const dir = join(tmp, name.replace(/\//g, '_'));
  cpSync(join(REAL, name), dir, { recursive: true });
  mkdirSync(join(dir, 'workspace'), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, 'workspace', path, '..'), { recursive: true });
    writeFileSync(join(dir, 'workspace', path), content);
  }
  return dir;
}

const USER = '1000:1000';

describe('planning real MLCube configs as MLCube would run them', () => {
  it('chest X-ray data preparator: prepare with MedPerf-bound paths', () => {
    const dir = stage('medperf-chestxray-tutorial-mlcube/data_preparator', { 'parameters.yaml': 'x: 1\n' });
    const ws = join(dir, 'workspace');
    // Short-form inputs have no type: MLCube looks at the disk, so the raw data must exist.
    const images = join(tmp, 'raw', 'images');
    const labels = join(tmp, 'raw', 'labels');
    mkdirSync(images, { recursive: true });
    mkdirSync(labels, { recursive: true });
    const plan = planTask(loadCube(dir), 'prepare', {
      bindings: { data_path: images, labels_path: labels, output_path: '/prepared/data', output_labels_path: '/prepared/labels' },
    });
    expect(dockerRunArgv(plan, USER)).toEqual([
      'docker', 'run', '--rm', '--network=none', '--user=1000:1000',
      `--volume=${images}:/mlcube_io0:ro`,
      `--volume=${labels}:/mlcube_io1:ro`,
      `--volume=${ws}:/mlcube_io2:ro`,
      '--volume=/prepared/data:/mlcube_io3',
      '--volume=/prepared/labels:/mlcube_io4',
      'mlcommons/chestxray-tutorial-prep:0.0.0',
      'prepare', '--data_path=/mlcube_io0', '--labels_path=/mlcube_io1', '--parameters_file=/mlcube_io2/parameters.yaml',
      '--output_path=/mlcube_io3', '--output_labels_path=/mlcube_io4',
    ]);
    expect(outputDirs(plan)).toEqual(['/prepared/data', '/prepared/labels']);
  });

  it('chest X-ray data preparator: statistics writes a file output into its folder', () => {
    const dir = stage('medperf-chestxray-tutorial-mlcube/data_preparator', { 'parameters.yaml': 'x: 1\n' });
    const ws = join(dir, 'workspace');
    const plan = planTask(loadCube(dir), 'statistics', {
      bindings: { data_path: '/prepared/data', labels_path: '/prepared/labels', output_path: '/out/statistics.yaml' },
    });
    expect(dockerRunArgv(plan, USER).slice(5)).toEqual([
      '--volume=/prepared/data:/mlcube_io0:ro',
      '--volume=/prepared/labels:/mlcube_io1:ro',
      `--volume=${ws}:/mlcube_io2:ro`,
      '--volume=/out:/mlcube_io3',
      'mlcommons/chestxray-tutorial-prep:0.0.0',
      'statistics', '--data_path=/mlcube_io0', '--labels_path=/mlcube_io1', '--parameters_file=/mlcube_io2/parameters.yaml',
      '--output_path=/mlcube_io3/statistics.yaml',
    ]);
    expect(outputDirs(plan)).toEqual(['/out']);
  });

  it('chest X-ray CNN: infer, with the weights in additional_files/ found as a file', () => {
    const dir = stage('medperf-chestxray-tutorial-mlcube/model_custom_cnn', {
      'parameters.yaml': 'x: 1\n',
      'additional_files/cnn_weights.pth': 'weights',
    });
    const ws = join(dir, 'workspace');
    const plan = planTask(loadCube(dir), 'infer', { bindings: { data_path: '/prepared/data', output_path: '/predictions' } });
    expect(dockerRunArgv(plan, USER).slice(5)).toEqual([
      '--volume=/prepared/data:/mlcube_io0:ro',
      `--volume=${ws}:/mlcube_io1:ro`,
      `--volume=${ws}/additional_files:/mlcube_io2:ro`,
      '--volume=/predictions:/mlcube_io3',
      'mlcommons/chestxray-tutorial-cnn:0.0.0',
      'infer', '--data_path=/mlcube_io0', '--parameters_file=/mlcube_io1/parameters.yaml', '--weights=/mlcube_io2/cnn_weights.pth',
      '--output_path=/mlcube_io3',
    ]);
  });

  it('chest X-ray MobileNetV2 and metrics: short forms typed by what is on disk', () => {
    const mob = stage('medperf-chestxray-tutorial-mlcube/model_mobilenetv2', {
      'parameters.yaml': 'x: 1\n',
      'additional_files/mobilenetv2_weights.h5': 'w',
    });
    expect(dockerRunArgv(planTask(loadCube(mob), 'infer', { bindings: { data_path: '/d', output_path: '/p' } }), USER).slice(-6)).toEqual([
      'mlcommons/chestxray-tutorial-mobilenetv2:0.0.0', 'infer', '--data_path=/mlcube_io0', '--parameters_file=/mlcube_io1/parameters.yaml',
      '--weights=/mlcube_io2/mobilenetv2_weights.h5', '--output_path=/mlcube_io3',
    ]);
    const metrics = stage('medperf-chestxray-tutorial-mlcube/metrics', { 'parameters.yaml': 'threshold: 0.5\n' });
    const predictions = join(tmp, 'preds');
    const labels = join(tmp, 'labels');
    mkdirSync(predictions);
    mkdirSync(labels);
    const plan = planTask(loadCube(metrics), 'evaluate', { bindings: { predictions, labels, output_path: '/results/results.yaml' } });
    expect(dockerRunArgv(plan, USER).slice(5)).toEqual([
      `--volume=${predictions}:/mlcube_io0:ro`,
      `--volume=${labels}:/mlcube_io1:ro`,
      `--volume=${join(metrics, 'workspace')}:/mlcube_io2:ro`,
      '--volume=/results:/mlcube_io3',
      'mlcommons/chestxray-tutorial-metrics:0.0.0',
      'evaluate', '--predictions=/mlcube_io0', '--labels=/mlcube_io1', '--parameters_file=/mlcube_io2/parameters.yaml',
      '--output_path=/mlcube_io3/results.yaml',
    ]);
  });

  it('BraTS metrics: a custom entrypoint replaces the task name', () => {
    const dir = stage('medperf-brats2023-segmentation-metrics', { 'parameters.yaml': 'x: 1\n' });
    const ws = join(dir, 'workspace');
    const plan = planTask(loadCube(dir), 'evaluate');
    expect(dockerRunArgv(plan, USER).slice(5)).toEqual([
      `--volume=${ws}/predictions:/mlcube_io0:ro`,
      `--volume=${ws}/labels:/mlcube_io1:ro`,
      `--volume=${ws}:/mlcube_io2`,
      '--entrypoint=python3.8',
      'mlcommons/brats2023-segmentation-metrics:0.0.0',
      '/entrypoint.py', '--predictions=/mlcube_io0', '--labels=/mlcube_io1', '--parameters_file=/mlcube_io2/parameters.yaml',
      '--output_path=/mlcube_io2/results.yaml',
    ]);
  });

  it('MLCube examples: defaults relative to the workspace, one mount per folder', () => {
    const hello = stage('mlcube-examples-hello_world');
    const ws = join(hello, 'workspace');
    expect(dockerRunArgv(planTask(loadCube(hello), 'hello'), USER).slice(5)).toEqual([
      `--volume=${ws}/names:/mlcube_io0:ro`,
      `--volume=${ws}/chats:/mlcube_io1`,
      'mlcommons/hello_world:0.0.1',
      'hello', '--name=/mlcube_io0/alice.txt', '--chat=/mlcube_io1/chat_with_alice.txt',
    ]);
    const mnist = stage('mlcube-examples-mnist');
    const mws = join(mnist, 'workspace');
    expect(dockerRunArgv(planTask(loadCube(mnist), 'train'), USER).slice(5)).toEqual([
      `--volume=${mws}/data:/mlcube_io0:ro`,
      `--volume=${mws}:/mlcube_io1:ro`,
      `--volume=${mws}/logs:/mlcube_io2`,
      `--volume=${mws}/model:/mlcube_io3`,
      'mlcommons/mnist:0.0.1',
      'train', '--data_dir=/mlcube_io0', '--train_config=/mlcube_io1/train.yaml', '--log_dir=/mlcube_io2', '--model_dir=/mlcube_io3',
    ]);
  });

  it('refuses an unknown input type that is not on disk, naming the input', () => {
    const dir = stage('medperf-chestxray-tutorial-mlcube/metrics', {});
    expect(() => planTask(loadCube(dir), 'evaluate', { bindings: { predictions: '/nope', labels: '/nope2', output_path: '/r/results.yaml' } })).toThrow(
      /task `evaluate`, input `predictions`: the type is unknown and \/nope does not exist/,
    );
  });
});

describe("planning MedPerf's container configs", () => {
  const cc = (name: string) => stage(`medperf-chestxray-tutorial-container/${name}`, { 'parameters.yaml': 'x: 1\n', 'additional_files/w.bin': 'w' });

  it('data preparator: mount paths as declared, inputs read-only, the command as given', () => {
    const dir = cc('data_preparator');
    const plan = planTask(loadCube(dir), 'prepare', {
      bindings: { data_path: '/raw/images', labels_path: '/raw/labels', output_path: '/prepared/data', output_labels_path: '/prepared/labels' },
    });
    expect(dockerRunArgv(plan, USER)).toEqual([
      'docker', 'run', '--rm', '--network=none', '--user=1000:1000',
      '--volume=/raw/images:/mlcommons/volumes/raw_data:ro',
      '--volume=/raw/labels:/mlcommons/volumes/raw_labels:ro',
      `--volume=${dir}/workspace/parameters.yaml:/mlcommons/volumes/parameters/parameters_file.yaml:ro`,
      '--volume=/prepared/data:/mlcommons/volumes/data',
      '--volume=/prepared/labels:/mlcommons/volumes/labels',
      'mlcommons/chestxray-tutorial-prep:0.0.1',
      'python3', '/project/prepare.py',
    ]);
    const stats = planTask(loadCube(dir), 'statistics', { bindings: { data_path: '/d', labels_path: '/l', output_path: '/s/statistics.yaml' } });
    expect(outputDirs(stats)).toEqual(['/s']);
    expect(stats.mounts.at(-1)).toEqual({ host: '/s/statistics.yaml', target: '/mlcommons/volumes/statistics/statistics.yaml', readOnly: false });
  });

  it('models and metrics: additional_files and parameters_file come from the cube', () => {
    for (const model of ['model_custom_cnn', 'model_mobilenetv2']) {
      const dir = cc(model);
      const argv = dockerRunArgv(planTask(loadCube(dir), 'infer', { bindings: { data_path: '/d', output_path: '/p' } }), USER);
      expect(argv.slice(5)).toEqual([
        '--volume=/d:/mlcommons/volumes/data:ro',
        `--volume=${dir}/workspace/parameters.yaml:/mlcommons/volumes/parameters/parameters_file.yaml:ro`,
        `--volume=${dir}/workspace/additional_files:/mlcommons/volumes/additional_files:ro`,
        '--volume=/p:/mlcommons/volumes/predictions',
        model === 'model_custom_cnn' ? 'mlcommons/chestxray-tutorial-cnn:0.0.1' : 'mlcommons/chestxray-tutorial-mobilenetv2:0.0.1',
      ]);
    }
    const metrics = cc('metrics');
    const plan = planTask(loadCube(metrics), 'evaluate', { bindings: { predictions: '/p', labels: '/l', output_path: '/r/results.yaml' } });
    expect(plan.command).toEqual([]);
    expect(plan.mounts.map((m) => m.target)).toEqual([
      '/mlcommons/volumes/predictions', '/mlcommons/volumes/labels', '/mlcommons/volumes/parameters/parameters_file.yaml', '/mlcommons/volumes/results/results.yaml',
    ]);
  });

  it('refuses run args outside MedPerf\'s allow-list', () => {
    const dir = join(tmp, 'hostile-cc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'container_config.yaml'), 'container_type: DockerImage\nimage: x:1\ntasks:\n  infer:\n    run_args:\n      privileged: true\n');
    expect(() => planTask(loadCube(dir), 'infer')).toThrow(/run_args privileged are not allowed/);
  });

  it('reports an invalid config with its file, line and field', () => {
    const dir = join(tmp, 'bad-cc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'container_config.yaml'), 'container_type: DockerImage\nimage: x:1\ntasks:\n  infer:\n    input_volumes:\n      data_path: {mount_path: relative, type: directory}\n');
    expect(() => loadCube(dir)).toThrow(/container_config\.yaml:6:\d+ .*mount_path/);
  });
});

describe('defaults outside the workspace', () => {
  it('are refused, so a cube cannot have a host folder of its choosing mounted', () => {
    for (const [name, def] of [['root', '/'], ['ssh', '~/.ssh/'], ['up', '../../etc/']] as const) {
      const dir = join(tmp, `escape-${name}`);
      mkdirSync(join(dir, 'workspace'), { recursive: true });
      writeFileSync(join(dir, 'mlcube.yaml'), `docker:\n  image: x:1\ntasks:\n  infer:\n    parameters:\n      inputs: { host: { type: directory, default: "${def}" } }\n`);
      if (name === 'ssh') continue; // "~" is not expanded: it is a folder named ~ inside the workspace.
      expect(() => planTask(loadCube(dir), 'infer')).toThrow(`task \`infer\`, input \`host\`: its default "${def}" is outside the cube's workspace`);
    }
  });
});

describe('raw docker flags in mlcube.yaml', () => {
  it('are never used, and the plan says so', () => {
    const dir = join(tmp, 'flags');
    mkdirSync(join(dir, 'workspace'), { recursive: true });
    writeFileSync(
      join(dir, 'mlcube.yaml'),
      'docker:\n  image: x:1\n  cpu_args: --privileged --net=host\n  env_args: {}\ntasks:\n  infer:\n    parameters:\n      outputs: { out: out/ }\n',
    );
    const plan = planTask(loadCube(dir), 'infer');
    expect(plan.ignored).toEqual(['docker.cpu_args ("--privileged --net=host"): raw docker flags from a cube are never used']);
    expect(dockerRunArgv(plan, USER).join(' ')).not.toContain('privileged');
  });
});

describe('shellSplit', () => {
  it('splits like shlex', () => {
    expect(shellSplit(`python3 "/a b.py" 'x y' z\\ w`)).toEqual(['python3', '/a b.py', 'x y', 'z w']);
  });
});
