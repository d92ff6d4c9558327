import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option, UsageError } from 'clipanion';
import { buildDemoTarball, generateDataset } from '../demo/dataset.ts';
import { buildDemoImages, CUBES_DIR, DEMO_CUBES } from '../demo/images.ts';
import { MedperfError } from '../../registry/errors.ts';
import { paths } from '../../registry/layout.ts';
import { git } from '../../registry/forge/git.ts';
import { LocalForge } from '../../registry/forge/local.ts';
import { sha256Hex } from '../../registry/hash.ts';
import { BaseCommand, type MedperfContext } from '../base.ts';
import { dockerAnswers } from '../execution.ts';
import { buildSiteFolder } from '../../registry/site/folder.ts';
import { terminalText } from '../terminal.ts';
import { rankingText, type UiContextExtras } from '../ui.ts';
import { makeSiteKey } from './site/key.ts';

/** The tutorial's logins and ids, shared with its test on GitHub. */
export const ADMIN = 'medperf-admin';
export const COMMITTEE = 'bench-committee';
export const MODEL_OWNER = 'model-owner';
export const DATA_OWNER = 'data-owner';
export const BENCHMARK = 'chestxray';
export const DATASET = `${DATA_OWNER}/hospital-a`;
export const MOBILENET = `${MODEL_OWNER}/chestxray-mobilenet`;
/** The second hospital of the confidential tutorial: a mean over two datasets is what it publishes. */
export const SECOND_DATASET = `${DATA_OWNER}/hospital-b`;

/** The image digest a demo cube's record pins when no image is built (the process runner uses none). */
export function processRunnerDigest(id: string): string {
  return `sha256:${sha256Hex(`medperf-git tutorial without a container engine: ${id}`)}`;
}

export class TutorialFailedError extends MedperfError {
  constructor(step: string, detail: string) {
    super('tutorial-failed', `the tutorial stopped at "${step}": ${detail}`);
  }
}

export class TutorialCommand extends BaseCommand {
  static override paths = [['tutorial']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Play every MedPerf role on a local registry, offline: from benchmark to leaderboard',
    details: `
      MedPerf's tutorial, on a local forge (a bare Git repository and a pull-request store under
      the state directory), with no network. Every role makes its keys and publishes their public
      halves (the data owner signs the results with them). The benchmark committee registers the three cubes and the
      benchmark; the admin approves it by merging; a model owner registers a second model and asks to
      join; the committee approves; a data owner registers, prepares, marks operational and associates
      a dataset; the committee approves; the data owner runs every model and submits the results; the
      results merge through the approval gate; the leaderboard site is built.

      Cubes run in Docker when an engine answers (their images are built offline from this machine's
      node), and with the process runner otherwise (no isolation; it says so). Everything lives in
      <state>/tutorial; \`--reset\` starts again from a clean state.

      \`--confidential\` plays it with a committee-only benchmark: the admin makes the site key and
      names its public half in registry.yaml; the second model is private (its weights encrypted,
      its key granted to the data owner once their dataset joins); the data owner registers two
      hospitals, and every result's metrics are encrypted to the committee, the data owner and the
      site; the committee reads them, the admin cannot; the site publishes only each model's mean
      over the two datasets.
    `,
    examples: [
      ['Run the tutorial', '$0 tutorial'],
      ['Run it again from a clean state', '$0 tutorial --reset'],
      ['Without Docker', '$0 tutorial --runner process'],
      ["The data owner's steps as Slurm jobs", '$0 tutorial --executor slurm'],
      ['A committee-only benchmark with a private model', '$0 tutorial --confidential'],
    ],
  });

  reset = Option.Boolean('--reset', false, { description: 'Remove what an earlier tutorial left, and start clean' });
  runner = Option.String('--runner', 'auto', { description: 'auto (Docker when an engine answers, else process), docker, or process' });
  executor = Option.String('--executor', 'local', { description: "local, or slurm: the data owner's prepare, associate and run as Slurm jobs" });
  confidential = Option.Boolean('--confidential', false, { description: 'A committee-only benchmark, a private second model and two hospitals: encrypted results, a site that shows only means' });

  private home = '';

  /** `--executor` for the data owner's steps, shown only when it is not the default. */
  private executorArgs(): string[] {
    return this.executor === 'local' ? [] : ['--executor', this.executor];
  }
  private stepCount = 0;

  async execute(): Promise<number> {
    if (!['auto', 'docker', 'process'].includes(this.runner)) throw new UsageError(`--runner ${this.runner}: say auto, docker or process`);
    if (!['local', 'slurm'].includes(this.executor)) throw new UsageError(`--executor ${this.executor}: say local or slurm`);
    this.home = join(this.stateDir, 'tutorial');
    if (existsSync(join(this.home, 'forge'))) {
      if (!this.reset) throw new MedperfError('tutorial-exists', `the tutorial ran here before (${this.home}); run \`medperf-git tutorial --reset\` to start it again from a clean state`);
      // The verified download cache is kept: it is content-addressed.
      for (const entry of readdirSync(this.home)) if (entry !== 'cache') await rm(join(this.home, entry), { recursive: true, force: true });
      this.print(`Removed the earlier tutorial in ${this.home}.`);
    }
    mkdirSync(this.home, { recursive: true });
    const forgeDir = join(this.home, 'forge');
    this.print(`MedPerf's tutorial on a local registry: ${forgeDir}`);
    this.print(`Everything it makes stays in ${this.home}.`);

    const runner = this.runner === 'auto' ? ((await dockerAnswers()) ? 'docker' : 'process') : this.runner;
    const digests: Record<string, string> = {};
    if (runner === 'docker') {
      this.print(this.runner === 'auto' ? 'A Docker engine answers: cubes run in containers (no network, not as root, inputs read-only).' : 'Cubes run in Docker.');
      this.status('building the demo cubes\' images offline (the first time takes a minute)');
      Object.assign(digests, await buildDemoImages());
      this.context.stderr.write('\n');
    } else {
      this.print(
        (this.runner === 'auto' ? 'No Docker engine answers here, so cubes' : 'Cubes') +
          ' run with the PROCESS RUNNER: directly on this machine, with NO isolation. Fine for the tutorial\'s own cubes; never for models you do not trust.',
      );
      // No image is built, so each cube record pins a stand-in digest (the process runner uses no image).
      for (const id of Object.keys(DEMO_CUBES)) digests[id] = processRunnerDigest(id);
    }

    // --- The admin creates the registry -----------------------------------------------------
    let siteKey: { identity: string; recipient: string } | undefined;
    if (this.confidential) {
      this.step(ADMIN, `makes the site key, which alone opens every encrypted result for the leaderboard (on GitHub, the repository secret MEDPERF_GIT_SITE_KEY; this local registry keeps it for the checks its merges run): ${this.siteKeyFile()}`);
      siteKey = await makeSiteKey(this.siteKeyFile());
    }
    const siteRecipient = siteKey?.recipient ?? '';
    this.step(ADMIN, `creates the registry: registry.yaml names the admins${this.confidential ? " and the site key's public half" : ''}`);
    const admin = await LocalForge.open({ root: forgeDir, login: ADMIN });
    if (siteKey) await admin.storeSiteKey(siteKey.identity);
    const registryPull = await admin.propose({
      key: 'registry',
      title: 'Create the tutorial registry',
      body: 'registry.yaml: the admins who approve benchmarks.',
      files: [{ path: 'registry.yaml', content: `title: MedPerf tutorial registry\nadmins:\n  - ${ADMIN}\n${siteRecipient ? `site_recipient: ${siteRecipient}\n` : ''}defaults:\n  dataset_auto_approval:\n    mode: never\n  model_auto_approval:\n    mode: never\n` }],
    });
    this.print(`registry.yaml proposed as pull request #${registryPull.pull.number}; the registry's first change needs no other admin.`);
    await admin.dispose();
    await this.medperf(ADMIN, ['pr', 'merge', String(registryPull.pull.number)]);

    // --- Every role makes its keys and publishes their public halves ---------------------------
    for (const login of [ADMIN, COMMITTEE, MODEL_OWNER, DATA_OWNER]) {
      this.step(login, `makes their keys (kept in the state directory) and publishes the public halves as people/${login}.yaml`);
      await this.medperf(login, ['keys', 'init']);
      await this.medperf(login, ['keys', 'publish']);
      // Keys need no reviewer: only their login may publish them.
      await this.mergeOpen(login, paths.person(login));
    }

    // --- The benchmark committee registers the three cubes and the benchmark -----------------
    const cube = async (login: string, id: string, kind: string, options: { private?: boolean } = {}) => {
      const name = id.split('/')[1]!;
      const dir = join(CUBES_DIR, DEMO_CUBES[id as keyof typeof DEMO_CUBES].dir);
      this.step(login, options.private ? `registers the private model ${id}: its weights are encrypted to a key kept on this machine` : `registers the ${kind} cube ${id}`);
      await this.medperf(login, ['mlcube', 'submit', dir, '--name', name, '--kind', kind, '--operational', '--image-digest', digests[id]!, ...(options.private ? ['--private'] : [])]);
      // A cube needs no reviewer: its owner merges once the checks pass.
      await this.mergeOpen(login, paths.cube(id));
    };
    await cube(COMMITTEE, `${COMMITTEE}/chestxray-prep`, 'data-preparator');
    await cube(COMMITTEE, `${COMMITTEE}/chestxray-cnn`, 'model');
    await cube(COMMITTEE, `${COMMITTEE}/chestxray-metrics`, 'metrics');

    const demo = join(this.home, 'demo', 'demo_data.tar.gz');
    mkdirSync(join(demo, '..'), { recursive: true });
    await buildDemoTarball(demo);
    this.step(COMMITTEE, 'submits the benchmark: the compatibility test of the three cubes on the demo dataset, which also gives the metric and statistics names it declares, then a PR for the admins');
    await this.medperf(COMMITTEE, [
      'benchmark', 'submit', '--name', BENCHMARK, '--title', 'Chest X-ray classification',
      '--description', 'MedPerf tutorial benchmark: chest X-ray pathologies, ranked by mean AUC.',
      '-p', `${COMMITTEE}/chestxray-prep`, '-m', `${COMMITTEE}/chestxray-cnn`, '-e', `${COMMITTEE}/chestxray-metrics`,
      '--demo-dataset-url', pathToFileURL(demo).href, '--primary-metric', 'AUC.mean',
      // With one dataset, only a per-dataset policy publishes numbers (a mean over one dataset would be its number).
      ...(this.confidential ? ['--publish', 'aggregate', '--read', 'committee'] : ['--publish', 'per-dataset']),
      '--runner', runner,
    ]);

    this.step(ADMIN, 'approves the benchmark and merges it (MedPerf\'s admin approval)');
    const benchmarkPull = await this.openPull(paths.benchmark(BENCHMARK));
    await this.medperf(ADMIN, ['pr', 'approve', String(benchmarkPull), '-m', 'Approved for the tutorial.']);
    await this.medperf(ADMIN, ['pr', 'merge', String(benchmarkPull)]);

    // --- A model owner joins ----------------------------------------------------------------
    await cube(MODEL_OWNER, MOBILENET, 'model', { private: this.confidential });
    this.step(MODEL_OWNER, 'asks to join the benchmark: the compatibility test on the demo data, then an association PR');
    await this.medperf(MODEL_OWNER, ['mlcube', 'associate', '-b', BENCHMARK, '-m', MOBILENET, '--runner', runner, '--priority', '1']);
    this.step(COMMITTEE, 'approves the model\'s association');
    await this.medperf(COMMITTEE, ['association', 'approve', '-b', BENCHMARK, '-m', MOBILENET, '--message', 'Welcome to the benchmark.']);

    // --- The data owner -------------------------------------------------------------------------
    const datasets = this.confidential ? [DATASET, SECOND_DATASET] : [DATASET];
    for (const [index, dataset] of datasets.entries()) {
      const name = dataset.split('/')[1]!;
      const letter = name.slice(-1).toUpperCase();
      const raw = join(this.home, name);
      const { dataPath, labelsPath } = generateDataset(raw, { count: 60, seed: index + 1, prefix: 'cxr' });
      this.print(`\nThe data owner's raw data (synthetic chest X-rays; it never leaves this machine): ${raw}`);
      this.step(DATA_OWNER, `registers the dataset ${dataset}: only its hashes and the typed text are published`);
      await this.medperf(DATA_OWNER, [
        'dataset', 'submit', '-b', BENCHMARK, '--name', name, '--description', `Chest X-rays of hospital ${letter} (synthetic)`,
        '--location', `Hospital ${letter}`, '--data-path', dataPath, '--labels-path', labelsPath,
      ]);
      await this.mergeOpen(DATA_OWNER, paths.dataset(dataset));
      this.step(DATA_OWNER, 'prepares the dataset with the benchmark\'s data preparator, locally');
      await this.medperf(DATA_OWNER, ['dataset', 'prepare', '-d', dataset, '--runner', runner, ...this.executorArgs()]);
      this.step(DATA_OWNER, 'publishes the statistics (the names the benchmark declares, nothing else) and marks the dataset operational');
      await this.medperf(DATA_OWNER, ['dataset', 'set-operational', '-d', dataset]);
      await this.mergeOpen(DATA_OWNER, paths.dataset(dataset));
      this.step(DATA_OWNER, 'asks to join the benchmark: the reference model on the prepared data');
      await this.medperf(DATA_OWNER, ['dataset', 'associate', '-b', BENCHMARK, '-d', dataset, '--runner', runner, ...this.executorArgs()]);
      this.step(COMMITTEE, 'approves the dataset\'s association');
      await this.medperf(COMMITTEE, ['association', 'approve', '-b', BENCHMARK, '-d', dataset, '--message', 'Welcome to the benchmark.']);
    }
    if (this.confidential) {
      this.step(MODEL_OWNER, `grants the private model to every data owner whose dataset joined ${BENCHMARK} (MedPerf's auto-grant): its key, wrapped to each one's published recipient`);
      await this.medperf(MODEL_OWNER, ['mlcube', 'grant', '-m', MOBILENET, '--benchmark', BENCHMARK, '--approved']);
      await this.mergeOpen(MODEL_OWNER, paths.modelGrants(MOBILENET));
    }

    for (const dataset of datasets) {
      this.step(DATA_OWNER, `runs every approved model on ${dataset} and submits the results in one PR${this.confidential ? ', their metrics encrypted to the committee, the data owner and the site' : ''}`);
      await this.medperf(DATA_OWNER, ['run', '-b', BENCHMARK, '-d', dataset, '--runner', runner, ...this.executorArgs()]);
      this.step(DATA_OWNER, 'merges the results: they need no reviewer, the gate checks the associations are approved');
      await this.mergeOpen(DATA_OWNER, `benchmarks/${BENCHMARK}/results/`);
    }
    if (this.confidential) {
      this.step(COMMITTEE, 'reads every result of the benchmark, opened with their own key');
      await this.medperf(COMMITTEE, ['result', 'ls', '-b', BENCHMARK]);
      this.step(ADMIN, 'lists the same results: the admin holds no recipient key, so the metrics stay sealed');
      await this.medperf(ADMIN, ['result', 'ls', '-b', BENCHMARK]);
    }

    // --- The leaderboard -------------------------------------------------------------------------
    this.step(ADMIN, 'builds the leaderboard site from main (the Action does this on every push to main)');
    const checkout = join(this.home, 'registry');
    await rm(checkout, { recursive: true, force: true });
    mkdirSync(checkout, { recursive: true });
    const archive = (await git(['archive', '--format=tar', 'main'], { cwd: join(forgeDir, 'registry.git') })).stdout;
    execFileSync('tar', ['-x', '-C', checkout], { input: archive });
    // Committee-only results are opened with the site key, as the pages workflow opens them with the secret.
    const site = join(this.home, 'site');
    const identities = this.confidential ? [(await readFile(this.siteKeyFile(), 'utf8')).trim()] : undefined;
    const built = await buildSiteFolder({ dir: checkout, out: site, history: { repoDir: join(forgeDir, 'registry.git'), rev: 'main' }, ...(identities ? { identities } : {}) });
    for (const board of built.boards) this.print(`\n${rankingText(board)}`);
    if (this.confidential) {
      this.print(`\nThe site publishes each model's mean over the ${datasets.length} datasets, and no hospital's own number.`);
      this.step(COMMITTEE, 'builds the per-dataset view on their own machine, with their keys: for their eyes only, never deployed');
      await this.medperf(COMMITTEE, ['site', 'build', checkout, '--out', join(this.home, 'committee-site'), '--private']);
    }
    this.print('\nDone. Where to look:');
    this.print(`  the registry (a bare Git repository): git --git-dir=${join(forgeDir, 'registry.git')} log --oneline main`);
    this.print(`  its files at main:                   ${checkout}`);
    this.print(`  the pull requests:                   MEDPERF_GIT_HOME=${this.home} npx medperf-git pr ls --state all`);
    this.print(`  the leaderboard site:                ${join(site, 'index.html')}`);
    if (this.confidential) {
      this.print(`  the committee's per-dataset view:    ${join(this.home, 'committee-site', 'index.html')} (never deployed)`);
      this.print(`  the site key (a secret):             ${this.siteKeyFile()}`);
    }
    this.print(`  the data owner's local results:      MEDPERF_GIT_HOME=${this.home} npx medperf-git result ls --as ${DATA_OWNER}`);
    this.print(`  a record, e.g. the dataset:          MEDPERF_GIT_HOME=${this.home} npx medperf-git dataset view ${DATASET}`);
    return 0;
  }

  /** Where the confidential tutorial keeps the site key (0600), as a registry's admin would keep the secret. */
  private siteKeyFile(): string {
    return join(this.home, 'site-key.txt');
  }


  private status(text: string): void {
    this.context.stderr.write(`${terminalText(text, { lines: true })}\n`);
  }

  private step(login: string, what: string): void {
    this.stepCount++;
    this.print(`\n=== Step ${this.stepCount}: ${login} ${what}`);
  }

  /** Runs a medperf-git command as `login` in the tutorial's state, showing it as a user would type it. */
  private async medperf(login: string, argv: string[]): Promise<void> {
    const shown = argv.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
    this.print(`$ medperf-git ${shown} --as ${login} --yes`);
    const env: NodeJS.ProcessEnv = { ...this.context.env, MEDPERF_GIT_HOME: this.home, MEDPERF_GIT_LOGIN: login };
    delete env.MEDPERF_GIT_REGISTRY;
    // Re-entering the CLI: the same routing and context, with the tutorial's state and no prompts.
    const sub: Partial<MedperfContext> & UiContextExtras = { env, interactive: false };
    const code = await this.cli.run([...argv, '--as', login, '--yes'], sub);
    if (code !== 0) throw new TutorialFailedError(`${login}: medperf-git ${argv.slice(0, 2).join(' ')}`, 'the command failed (its error is above)');
  }

  /** The open pull request touching `path` (a file, or a folder ending in /). */
  private async openPull(path: string): Promise<number> {
    const forge = await LocalForge.open({ root: join(this.home, 'forge'), login: ADMIN });
    const [pull] = await forge.listPulls({ state: 'open', paths: [path] });
    await forge.dispose();
    if (!pull) throw new TutorialFailedError(path, 'no open pull request for it');
    return pull.number;
  }

  private async mergeOpen(login: string, path: string): Promise<void> {
    await this.medperf(login, ['pr', 'merge', String(await this.openPull(path))]);
  }
}
