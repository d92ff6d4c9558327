// Every command of the CLI, one class per file; the file's path mirrors the command.
import type { CommandClass } from 'clipanion';
import type { MedperfContext } from '../base.ts';
import { ValidateCommand } from './validate.ts';
import { AuthStatusCommand } from './auth/status.ts';
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

export const commands: Array<CommandClass<MedperfContext>> = [
  AuthStatusCommand,
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
];
