// The Action's entry: read the settings, run the mode, report. Every decision is in registry/.
import * as core from '@actions/core';
import { commentMode } from './modes/comment.ts';
import { gateMode } from './modes/gate.ts';
import { siteMode } from './modes/site.ts';
import { validateMode } from './modes/validate.ts';
import { readSettings } from './settings.ts';

export async function run(): Promise<void> {
  try {
    const settings = readSettings();
    switch (settings.mode) {
      case 'validate':
        await validateMode(settings);
        break;
      case 'gate':
        await gateMode(settings);
        break;
      case 'comment':
        await commentMode(settings);
        break;
      case 'site':
        await siteMode(settings);
        break;
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}

await run();
