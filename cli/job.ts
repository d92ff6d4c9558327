// What a cluster job's script runs on its compute node: `medperf-git job run SPEC` and nothing else.
// `npm run build` bundles it, with the modules it needs, into build/job/ (cli/build-job.js),
// so that each job starts without resolving and reading some fifty modules one by one; dockerode
// stays outside the bundle (cli/runners/dockerode.ts loads it from node_modules).
import { Cli } from 'clipanion';
import type { MedperfContext } from './base.ts';
import { JobRunCommand } from './commands/job/run.ts';
import { VERSION } from './version.ts';

const cli = new Cli<MedperfContext>({ binaryLabel: 'medperf-git', binaryName: 'medperf-git', binaryVersion: VERSION, enableColors: false });
cli.register(JobRunCommand);
const context: MedperfContext = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), colorDepth: 1 };
process.exitCode = await cli.run(process.argv.slice(2), context);
