// Every command of the CLI, one class per file; the file's path mirrors the command.
import type { CommandClass } from 'clipanion';
import type { MedperfContext } from '../base.ts';

export const commands: Array<CommandClass<MedperfContext>> = [];
