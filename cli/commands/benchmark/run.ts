import { Command } from 'clipanion';
import { RunCommand } from '../run.ts';

/** MedPerf's `benchmark run`: the data owner's `medperf-git run`, under the name MedPerf users know. */
export class BenchmarkRunCommand extends RunCommand {
  static override paths = [['benchmark', 'run']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Run every approved model of a benchmark on your dataset (the same as `medperf-git run`)',
    details: `
      MedPerf's \`benchmark run\`: an alias of \`medperf-git run\`, with the same options. Every model
      with an approved association runs on your prepared dataset, by priority; finished executions
      are reused; the summary table is printed, and after showing exactly what will be sent and
      asking, one pull request carries the result records.
    `,
    examples: [
      ['Run the tutorial benchmark on your dataset', '$0 benchmark run -b chestxray -d hospital-a'],
      ['Only one model, without a container engine', '$0 benchmark run -b chestxray -d hospital-a -m model-owner/chestxray-mobilenet --runner process'],
    ],
  });
}
