import { describe, expect, it } from 'vitest';
import { proposeDeclaration, requireStatisticsNames, statisticsDeclaration } from './declarations.ts';
import { benchmark, tutorialRegistry, view, without, P, yaml } from '../testing/records.ts';

describe('proposeDeclaration', () => {
  it('keeps what is declared, then adds the names found in the order found, each with where it was found', () => {
    expect(
      proposeDeclaration(['AUC'], [
        { source: 'the metrics cube on the demo dataset', metrics: { AUC: 0.8, Dice: { mean: 0.7 } } },
        { source: 'results/a.yaml', metrics: { Dice: { mean: 0.6 }, F1: 0.3, 'not a name': 1 } },
      ]),
    ).toEqual({
      names: ['AUC', 'Dice.mean', 'F1'],
      added: [
        { name: 'Dice.mean', sources: ['the metrics cube on the demo dataset', 'results/a.yaml'] },
        { name: 'F1', sources: ['results/a.yaml'] },
      ],
    });
    expect(proposeDeclaration(undefined, [])).toEqual({ names: [], added: [] });
  });
});

describe('statisticsDeclaration', () => {
  it('joins the names of every benchmark that prepares data with the preparator', async () => {
    const files = { ...tutorialRegistry(), 'benchmarks/lungs/benchmark.yaml': yaml(benchmark({ statistics_names: ['cases', 'sites'] })) };
    expect(await statisticsDeclaration(view(files), 'carol/chestxray-prep')).toEqual({
      benchmarks: ['chestxray', 'lungs'],
      declaring: ['chestxray', 'lungs'],
      names: ['cases', 'labels.effusion', 'labels.normal', 'sites'],
    });
  });

  it('says who must declare them when none does', async () => {
    const old = benchmark();
    delete old.statistics_names;
    const files = { ...tutorialRegistry(), [P.benchmark]: yaml(old) };
    const d = await statisticsDeclaration(view(files), 'carol/chestxray-prep');
    expect(d).toEqual({ benchmarks: ['chestxray'], declaring: [], names: undefined });
    expect(() => requireStatisticsNames(d, 'carol/chestxray-prep')).toThrow('ask the committee of chestxray to run `medperf-git benchmark declare-names -b chestxray`');
    const none = await statisticsDeclaration(view(without(tutorialRegistry(), P.benchmark)), 'carol/chestxray-prep');
    expect(() => requireStatisticsNames(none, 'carol/chestxray-prep')).toThrow('no benchmark prepares data with carol/chestxray-prep');
  });
});
