// The command index, generated from the command classes by `npm run index` (cli/build-command-index.ts):
// every command's paths, category and one-line description, and where its class is. The CLI routes a
// command line and answers `--help` and `<group> --help` from this list alone, and imports a
// command's module only when that command runs. To add a command: one class in
// cli/commands/<group>/<verb>.ts, then `npm run index`.
import type { CommandClass } from 'clipanion';
import type { MedperfContext } from '../base.ts';

/** The help's sections, in MedPerf's roles, in the order the help shows them. */
export const CATEGORIES = ['Model owner', 'Benchmark committee', 'Data owner', 'Admin', 'Registry', 'Cluster', 'Everyone'] as const;

export interface CommandEntry {
  paths: string[][];
  category: (typeof CATEGORIES)[number];
  description: string;
  load(): Promise<CommandClass<MedperfContext>>;
}

export const commands: CommandEntry[] = [
  {
    paths: [['association', 'approve']],
    category: 'Benchmark committee',
    description: 'Approve a pending association (benchmark committee): approve its pull request, and merge it',
    load: async () => (await import('./association/approve.ts')).AssociationApproveCommand,
  },
  {
    paths: [['association', 'ls']],
    category: 'Benchmark committee',
    description: 'List associations of models and datasets with benchmarks: approved, pending and rejected',
    load: async () => (await import('./association/ls.ts')).AssociationLsCommand,
  },
  {
    paths: [['association', 'reject']],
    category: 'Benchmark committee',
    description: 'Reject a pending association (benchmark committee): request changes on its pull request and close it',
    load: async () => (await import('./association/reject.ts')).AssociationRejectCommand,
  },
  {
    paths: [['association', 'set-priority'], ['association', 'set_priority']],
    category: 'Benchmark committee',
    description: 'Set the priority of an approved model association (benchmark committee)',
    load: async () => (await import('./association/set-priority.ts')).AssociationSetPriorityCommand,
  },
  {
    paths: [['auth', 'status']],
    category: 'Everyone',
    description: 'Say who you are on the registry and what you may do there',
    load: async () => (await import('./auth/status.ts')).AuthStatusCommand,
  },
  {
    paths: [['benchmark', 'declare-names'], ['benchmark', 'declare_names']],
    category: 'Benchmark committee',
    description: 'Declare the metric and statistics names a benchmark accepts, from its cubes and merged records (opens the pull request)',
    load: async () => (await import('./benchmark/declare-names.ts')).BenchmarkDeclareNamesCommand,
  },
  {
    paths: [['benchmark', 'ls']],
    category: 'Benchmark committee',
    description: "List benchmarks: approved, pending the admins' review, and rejected",
    load: async () => (await import('./benchmark/ls.ts')).BenchmarkLsCommand,
  },
  {
    paths: [['benchmark', 'run']],
    category: 'Data owner',
    description: 'Run every approved model of a benchmark on your dataset (the same as `medperf-git run`)',
    load: async () => (await import('./benchmark/run.ts')).BenchmarkRunCommand,
  },
  {
    paths: [['benchmark', 'submit']],
    category: 'Benchmark committee',
    description: 'Propose a benchmark: run the compatibility test with its three cubes, then open a pull request for the admins',
    load: async () => (await import('./benchmark/submit.ts')).BenchmarkSubmitCommand,
  },
  {
    paths: [['benchmark', 'update-associations-policy'], ['benchmark', 'update_associations_policy']],
    category: 'Benchmark committee',
    description: "Change a benchmark's auto-approval policy for dataset and model associations (opens the pull request)",
    load: async () => (await import('./benchmark/update-associations-policy.ts')).BenchmarkUpdateAssociationsPolicyCommand,
  },
  {
    paths: [['benchmark', 'view']],
    category: 'Benchmark committee',
    description: 'Show an approved benchmark: its cubes, demo dataset, policies and associations',
    load: async () => (await import('./benchmark/view.ts')).BenchmarkViewCommand,
  },
  {
    paths: [['dataset', 'associate']],
    category: 'Data owner',
    description: 'Ask to join a benchmark with an operational dataset',
    load: async () => (await import('./dataset/associate.ts')).DatasetAssociateCommand,
  },
  {
    paths: [['dataset', 'check']],
    category: 'Data owner',
    description: "Recompute the prepared data's generated_uid and compare it with the record",
    load: async () => (await import('./dataset/check.ts')).DatasetCheckCommand,
  },
  {
    paths: [['dataset', 'export']],
    category: 'Data owner',
    description: 'Write a prepared dataset as one archive, with its hashes, to move it to another machine',
    load: async () => (await import('./dataset/export.ts')).DatasetExportCommand,
  },
  {
    paths: [['dataset', 'import']],
    category: 'Data owner',
    description: 'Bring in a prepared dataset exported on another machine, after checking every file and its generated_uid',
    load: async () => (await import('./dataset/import.ts')).DatasetImportCommand,
  },
  {
    paths: [['dataset', 'ls']],
    category: 'Data owner',
    description: 'List datasets: registered (main), pending (open pull requests) and prepared here',
    load: async () => (await import('./dataset/ls.ts')).DatasetLsCommand,
  },
  {
    paths: [['dataset', 'prepare']],
    category: 'Data owner',
    description: 'Prepare a registered dataset with its data preparator, on this machine',
    load: async () => (await import('./dataset/prepare.ts')).DatasetPrepareCommand,
  },
  {
    paths: [['dataset', 'set-operational'], ['dataset', 'set_operational']],
    category: 'Data owner',
    description: "Publish a prepared dataset's statistics and generated_uid, and mark it operational",
    load: async () => (await import('./dataset/set-operational.ts')).DatasetSetOperationalCommand,
  },
  {
    paths: [['dataset', 'submit']],
    category: 'Data owner',
    description: 'Register a dataset: only its hashes and the text you type are published',
    load: async () => (await import('./dataset/submit.ts')).DatasetSubmitCommand,
  },
  {
    paths: [['dataset', 'view']],
    category: 'Data owner',
    description: "Show a dataset's record, and what this machine holds of it",
    load: async () => (await import('./dataset/view.ts')).DatasetViewCommand,
  },
  {
    paths: [['import']],
    category: 'Registry',
    description: "Import a MedPerf server's benchmarks, cubes, datasets, associations and results into a registry, local or on GitHub",
    load: async () => (await import('./import.ts')).ImportCommand,
  },
  {
    paths: [['job', 'run']],
    category: 'Cluster',
    description: 'Run a submitted chain of cube tasks on this compute node (what a cluster job runs)',
    load: async () => (await import('./job/run.ts')).JobRunCommand,
  },
  {
    paths: [['keys', 'init']],
    category: 'Everyone',
    description: 'Make your keys: an age identity (to read results encrypted for you) and an Ed25519 key (to sign your results)',
    load: async () => (await import('./keys/init.ts')).KeysInitCommand,
  },
  {
    paths: [['keys', 'publish']],
    category: 'Everyone',
    description: 'Publish the public halves of your keys as your record, people/<login>.yaml, in a pull request',
    load: async () => (await import('./keys/publish.ts')).KeysPublishCommand,
  },
  {
    paths: [['keys', 'show']],
    category: 'Everyone',
    description: "Show the public halves of your keys (or of a login's published keys), and whether they are published",
    load: async () => (await import('./keys/show.ts')).KeysShowCommand,
  },
  {
    paths: [['mlcube', 'associate']],
    category: 'Model owner',
    description: 'Ask to join a benchmark with your model: run the compatibility test and open an association pull request',
    load: async () => (await import('./mlcube/associate.ts')).MlcubeAssociateCommand,
  },
  {
    paths: [['mlcube', 'grant']],
    category: 'Model owner',
    description: "Grant a private model's key to data owners, in one pull request",
    load: async () => (await import('./mlcube/grant.ts')).MlcubeGrantCommand,
  },
  {
    paths: [['mlcube', 'ls']],
    category: 'Model owner',
    description: 'List the registered MLCubes (and those pending registration)',
    load: async () => (await import('./mlcube/ls.ts')).MlcubeLsCommand,
  },
  {
    paths: [['mlcube', 'revoke']],
    category: 'Model owner',
    description: "Remove grants of a private model's key, in one pull request",
    load: async () => (await import('./mlcube/revoke.ts')).MlcubeRevokeCommand,
  },
  {
    paths: [['mlcube', 'run-test'], ['mlcube', 'run_test']],
    category: 'Model owner',
    description: "Run one task of a cube folder with the mounts and environment you give (MedPerf's run_test, for cube authors)",
    load: async () => (await import('./mlcube/run-test.ts')).MlcubeRunTestCommand,
  },
  {
    paths: [['mlcube', 'submit']],
    category: 'Model owner',
    description: 'Register an MLCube: open a pull request adding its record with every hash',
    load: async () => (await import('./mlcube/submit.ts')).MlcubeSubmitCommand,
  },
  {
    paths: [['mlcube', 'view']],
    category: 'Model owner',
    description: 'Show a registered MLCube: its record, every hash, and the benchmarks it is associated with',
    load: async () => (await import('./mlcube/view.ts')).MlcubeViewCommand,
  },
  {
    paths: [['pr', 'approve']],
    category: 'Admin',
    description: 'Approve a pull request (a review, as an admin or committee member)',
    load: async () => (await import('./pr/approve.ts')).PrApproveCommand,
  },
  {
    paths: [['pr', 'close']],
    category: 'Everyone',
    description: 'Close a pull request without merging it (reject the change)',
    load: async () => (await import('./pr/close.ts')).PrCloseCommand,
  },
  {
    paths: [['pr', 'ls']],
    category: 'Everyone',
    description: 'List pull requests of the registry',
    load: async () => (await import('./pr/ls.ts')).PrLsCommand,
  },
  {
    paths: [['pr', 'merge']],
    category: 'Admin',
    description: 'Merge a pull request (approve the change it makes)',
    load: async () => (await import('./pr/merge.ts')).PrMergeCommand,
  },
  {
    paths: [['pr', 'request-changes']],
    category: 'Everyone',
    description: 'Request changes on a pull request, saying what must change',
    load: async () => (await import('./pr/request-changes.ts')).PrRequestChangesCommand,
  },
  {
    paths: [['pr', 'view']],
    category: 'Everyone',
    description: 'Show a pull request: its state, files, reviews and comments',
    load: async () => (await import('./pr/view.ts')).PrViewCommand,
  },
  {
    paths: [['registry', 'init']],
    category: 'Admin',
    description: 'Scaffold a new registry repository: registry.yaml, workflows, CODEOWNERS and README',
    load: async () => (await import('./registry/init.ts')).RegistryInitCommand,
  },
  {
    paths: [['registry', 'protect']],
    category: 'Admin',
    description: "Apply the registry's protection on GitHub: required checks pinned to the Actions app, merge settings, Pages",
    load: async () => (await import('./registry/protect.ts')).RegistryProtectCommand,
  },
  {
    paths: [['registry', 'use']],
    category: 'Everyone',
    description: 'Choose the registry (and local login) later commands use',
    load: async () => (await import('./registry/use.ts')).RegistryUseCommand,
  },
  {
    paths: [['result', 'ls']],
    category: 'Data owner',
    description: 'List the results on this machine and whether they were submitted',
    load: async () => (await import('./result/ls.ts')).ResultLsCommand,
  },
  {
    paths: [['result', 'reencrypt']],
    category: 'Benchmark committee',
    description: "Re-encrypt a committee-only benchmark's results to its committee as it is now, in one pull request",
    load: async () => (await import('./result/reencrypt.ts')).ResultReencryptCommand,
  },
  {
    paths: [['result', 'submit']],
    category: 'Data owner',
    description: 'Submit local results: one, or every unsubmitted result of a benchmark, in one pull request',
    load: async () => (await import('./result/submit.ts')).ResultSubmitCommand,
  },
  {
    paths: [['result', 'view']],
    category: 'Data owner',
    description: 'Show a local result: its metrics and the record that is (or would be) submitted; or a result of the registry, by its path',
    load: async () => (await import('./result/view.ts')).ResultViewCommand,
  },
  {
    paths: [['run']],
    category: 'Data owner',
    description: 'Run every approved model of a benchmark on your dataset, and submit the results',
    load: async () => (await import('./run.ts')).RunCommand,
  },
  {
    paths: [['site', 'build']],
    category: 'Everyone',
    description: 'Build the leaderboard site of a registry folder, for a preview',
    load: async () => (await import('./site/build.ts')).SiteBuildCommand,
  },
  {
    paths: [['site', 'key']],
    category: 'Admin',
    description: "Make the site key that opens committee-only results for the leaderboard, and propose it as registry.yaml's site_recipient",
    load: async () => (await import('./site/key.ts')).SiteKeyCommand,
  },
  {
    paths: [['storage', 'cleanup']],
    category: 'Everyone',
    description: 'Remove from the state directory what no registered record and no unfinished run needs (asks first)',
    load: async () => (await import('./storage/cleanup.ts')).StorageCleanupCommand,
  },
  {
    paths: [['storage', 'ls']],
    category: 'Everyone',
    description: 'Show what the state directory holds: downloads, cube folders, prepared datasets, predictions, results, logs; and their sizes',
    load: async () => (await import('./storage/ls.ts')).StorageLsCommand,
  },
  {
    paths: [['test', 'run']],
    category: 'Model owner',
    description: "Run MedPerf's compatibility test: prepare, sanity_check, statistics, infer, evaluate",
    load: async () => (await import('./test/run.ts')).TestRunCommand,
  },
  {
    paths: [['tutorial']],
    category: 'Everyone',
    description: 'Play every MedPerf role on a local registry, offline: from benchmark to leaderboard',
    load: async () => (await import('./tutorial.ts')).TutorialCommand,
  },
  {
    paths: [['validate']],
    category: 'Everyone',
    description: 'Check a registry as the Action does, offline',
    load: async () => (await import('./validate.ts')).ValidateCommand,
  },
];
