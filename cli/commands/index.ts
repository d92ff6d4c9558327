// Every command of the CLI, one class per file; the file's path mirrors the command.
import type { CommandClass } from 'clipanion';
import type { MedperfContext } from '../base.ts';
import { ValidateCommand } from './validate.ts';
import { AssociationApproveCommand } from './association/approve.ts';
import { AssociationLsCommand } from './association/ls.ts';
import { AssociationRejectCommand } from './association/reject.ts';
import { AssociationSetPriorityCommand } from './association/set-priority.ts';
import { AuthStatusCommand } from './auth/status.ts';
import { BenchmarkLsCommand } from './benchmark/ls.ts';
import { BenchmarkRunCommand } from './benchmark/run.ts';
import { BenchmarkSubmitCommand } from './benchmark/submit.ts';
import { BenchmarkUpdateAssociationsPolicyCommand } from './benchmark/update-associations-policy.ts';
import { BenchmarkViewCommand } from './benchmark/view.ts';
import { JobRunCommand } from './job/run.ts';
import { MlcubeAssociateCommand } from './mlcube/associate.ts';
import { MlcubeLsCommand } from './mlcube/ls.ts';
import { MlcubeSubmitCommand } from './mlcube/submit.ts';
import { MlcubeViewCommand } from './mlcube/view.ts';
import { PrApproveCommand } from './pr/approve.ts';
import { PrCloseCommand } from './pr/close.ts';
import { PrLsCommand } from './pr/ls.ts';
import { PrMergeCommand } from './pr/merge.ts';
import { PrRequestChangesCommand } from './pr/request-changes.ts';
import { PrViewCommand } from './pr/view.ts';
import { RegistryInitCommand } from './registry/init.ts';
import { RegistryUseCommand } from './registry/use.ts';
import { SiteBuildCommand } from './site/build.ts';
import { TestRunCommand } from './test/run.ts';
import { DatasetAssociateCommand } from './dataset/associate.ts';
import { DatasetCheckCommand } from './dataset/check.ts';
import { DatasetLsCommand } from './dataset/ls.ts';
import { DatasetPrepareCommand } from './dataset/prepare.ts';
import { DatasetSetOperationalCommand } from './dataset/set-operational.ts';
import { DatasetSubmitCommand } from './dataset/submit.ts';
import { DatasetViewCommand } from './dataset/view.ts';
import { ResultLsCommand } from './result/ls.ts';
import { ResultSubmitCommand } from './result/submit.ts';
import { ResultViewCommand } from './result/view.ts';
import { ImportCommand } from './import.ts';
import { RunCommand } from './run.ts';
import { TutorialCommand } from './tutorial.ts';

export const commands: Array<CommandClass<MedperfContext>> = [
  AssociationApproveCommand,
  AssociationLsCommand,
  AssociationRejectCommand,
  AssociationSetPriorityCommand,
  AuthStatusCommand,
  BenchmarkLsCommand,
  BenchmarkRunCommand,
  BenchmarkSubmitCommand,
  BenchmarkUpdateAssociationsPolicyCommand,
  BenchmarkViewCommand,
  JobRunCommand,
  MlcubeAssociateCommand,
  MlcubeLsCommand,
  MlcubeSubmitCommand,
  MlcubeViewCommand,
  PrApproveCommand,
  PrCloseCommand,
  PrLsCommand,
  PrMergeCommand,
  PrRequestChangesCommand,
  PrViewCommand,
  RegistryInitCommand,
  RegistryUseCommand,
  SiteBuildCommand,
  TestRunCommand,
  ValidateCommand,
  DatasetAssociateCommand,
  DatasetCheckCommand,
  DatasetLsCommand,
  DatasetPrepareCommand,
  DatasetSetOperationalCommand,
  DatasetSubmitCommand,
  DatasetViewCommand,
  ResultLsCommand,
  ResultSubmitCommand,
  ResultViewCommand,
  ImportCommand,
  RunCommand,
  TutorialCommand,
];
