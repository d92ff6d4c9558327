import { validateAction, validateWorkflow, type ValidationError } from '@action-validator/core';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import fc from 'fast-check';
import { ActionNotPinnedError, requirePinned } from './actions.ts';
import { codeowners, scaffold } from './index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const files = scaffold({ title: 'Brain tumours', admins: ['alice', 'bob'], action: 'mlcommons/medperf-git/action@0123456789abcdef0123456789abcdef01234567', branch: 'main' });
const registryWorkflows = Object.entries(files).filter(([p]) => p.startsWith('.github/workflows/'));

/** The messages of a validation, flattened (one-of branches included) for a readable failure. */
function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [
    `${'path' in e ? e.path : ''} ${e.title}${e.detail ? `: ${e.detail}` : ''}`,
    ...('states' in e && e.states ? e.states.flatMap((s) => messages(s.errors).map((m) => `  ${m}`)) : []),
  ]);
}

type Workflow = {
  on: Record<string, unknown>;
  permissions: Record<string, string> | Record<string, never>;
  concurrency?: { group: string };
  jobs: Record<string, { permissions?: Record<string, string>; steps: Array<{ uses?: string; with?: Record<string, unknown>; run?: string }> }>;
};

describe('the workflows a registry adopts', () => {
  for (const [path, text] of registryWorkflows) {
    it(`${path} is valid against GitHub's workflow schema`, () => {
      expect(messages(validateWorkflow(text).errors)).toEqual([]);
    });
  }

  it('give each token the least it needs, and never run pull-request code with a write token', () => {
    const wf = Object.fromEntries(registryWorkflows.map(([p, t]) => [p.replace(/^.*\/|\.yml$/g, ''), parse(t) as Workflow]));
    expect(Object.keys(wf).sort()).toEqual(['comment', 'gate', 'pages', 'review', 'validate']);
    expect(wf.validate!.permissions).toEqual({ contents: 'read' });
    expect(wf.review!.permissions).toEqual({});
    expect(wf.gate!.permissions).toEqual({ contents: 'read', 'pull-requests': 'read', statuses: 'write' });
    expect(wf.comment!.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(wf.pages!.permissions).toEqual({ contents: 'read' });
    expect(wf.pages!.jobs.deploy!.permissions).toEqual({ pages: 'write', 'id-token': 'write' });
    // The only workflow triggered by pull_request (fork code) writes nothing.
    for (const [name, w] of Object.entries(wf)) {
      const writes = Object.values(w.permissions).includes('write') || Object.values(w.jobs).some((j) => Object.values(j.permissions ?? {}).includes('write'));
      if ('pull_request' in w.on || 'pull_request_review' in w.on) expect(writes, name).toBe(false);
    }
    // Write-token workflows check out the default branch, never the PR's head.
    for (const name of ['gate', 'comment'] as const) {
      const checkout = wf[name]!.jobs[name]!.steps.find((s) => s.uses?.startsWith('actions/checkout@'))!;
      expect(checkout.with).toEqual({ ref: 'main', 'persist-credentials': false });
      expect(JSON.stringify(wf[name])).not.toMatch(/head\.sha|head\.ref|head_branch|refs\/pull/);
    }
    expect(Object.keys(wf.gate!.on).sort()).toEqual(['pull_request_target', 'workflow_run']);
    expect(wf.comment!.on).toEqual({ workflow_run: { workflows: ['validate'], types: ['completed'] } });
    for (const name of ['validate', 'gate', 'comment', 'pages']) expect(wf[name]!.concurrency?.group, name).toBeTruthy();
  });

  it('pin every action to a commit SHA, the medperf-git Action included', () => {
    const refs = registryWorkflows.flatMap(([, t]) => [...t.matchAll(/^\s*(?:- )?uses: (\S+)/gm)].map((m) => m[1]!));
    const thirdParty = refs.filter((r) => !r.startsWith('mlcommons/medperf-git/'));
    expect(thirdParty.length).toBeGreaterThanOrEqual(6);
    for (const ref of thirdParty) expect(ref).toMatch(/^actions\/[a-z-]+@[0-9a-f]{40}$/);
    expect(refs.filter((r) => r.startsWith('mlcommons/medperf-git/'))).toEqual(Array(4).fill('mlcommons/medperf-git/action@0123456789abcdef0123456789abcdef01234567'));
  });

  it('refuse a tag, a branch or a short SHA for the Action, saying how to pin it', () => {
    const how = (ref: string, repo = 'mlcommons/medperf-git', path = '/action') =>
      `pin it to a full commit SHA: \`git ls-remote https://github.com/${repo} '${ref}^{}' '${ref}'\` prints the commit (for a tag, the line ending in ^{}), ` +
      `then pass --action ${repo}${path}@<that 40-character SHA>`;
    const refused = (action: string, what: string, ref: string, repo?: string, path?: string) =>
      new ActionNotPinnedError(`--action ${action} names ${what}, which can be moved to other code, and the gate, comment and pages workflows run the Action with write tokens; ${how(ref, repo, path)}`);
    for (const [action, what, ref, repo, path] of [
      ['mlcommons/medperf-git/action@v0.1.0', 'a tag or branch', 'v0.1.0'],
      ['mlcommons/medperf-git/action@main', 'a tag or branch', 'main'],
      ['hospital/medperf-fork@release/2026', 'a tag or branch', 'release/2026', 'hospital/medperf-fork', ''],
      ['mlcommons/medperf-git/action@0123456', 'a short or upper-case SHA', '0123456'],
      ['mlcommons/medperf-git/action@0123456789ABCDEF0123456789ABCDEF01234567', 'a short or upper-case SHA', '0123456789ABCDEF0123456789ABCDEF01234567'],
    ] as const) {
      expect(() => scaffold({ title: 't', admins: ['alice'], action, branch: 'main' }), action).toThrow(refused(action, what, ref, repo, path));
    }
    expect(() => requirePinned('medperf-git@')).toThrow('--action must be owner/repo[/path]@<commit SHA>, not medperf-git@');
    expect(() => requirePinned(undefined, 'v0.1.0')).toThrow(`name the medperf-git Action the workflows run, pinned to a commit; ${how('v0.1.0')}`);
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._\/-]{1,45}$/), (ref) => {
        const action = `mlcommons/medperf-git/action@${ref}`;
        if (/^[0-9a-f]{40}$/.test(ref)) expect(() => requirePinned(action)).not.toThrow();
        else expect(() => requirePinned(action)).toThrow(ActionNotPinnedError);
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{40}$/), (sha) => {
        expect(() => requirePinned(`o/r/action@${sha}`)).not.toThrow();
      }),
    );
  });

  it('write CODEOWNERS that request admins and each committee, and leave results to their owners', () => {
    expect(codeowners(['alice'], { lung: ['carol', 'dave'] })).toBe(
      [
        '# Generated by `medperf-git registry init` from registry.yaml and each benchmark committee.',
        '# The approval gate (the medperf-git/approval status) decides what a pull request needs;',
        '# this file only asks GitHub to request the right reviewers.',
        '/registry.yaml @alice',
        '/.github/ @alice',
        '/benchmarks/*/benchmark.yaml @alice',
        '/benchmarks/lung/models/ @carol @dave',
        '/benchmarks/lung/datasets/ @carol @dave',
        '',
      ].join('\n'),
    );
    // The README's set-up is what `registry protect` applies (cli/commands/registry/protect.github.test.ts).
    expect(files['README.md']).toContain('medperf-git registry protect OWNER/REPO');
    expect(files['README.md']).toContain('required checks `validate` (the validate job) and `medperf-git/approval` (the\n  gate), each pinned to the GitHub Actions app');
  });
});

describe('what the project ships', () => {
  it('action/action.yml is valid against GitHub action schema (node24 aside)', () => {
    const text = readFileSync(join(root, 'action/action.yml'), 'utf8');
    const action = parse(text) as { runs: { using: string; main: string } };
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    // @action-validator/core 0.6.0 bundles a schema from before GitHub added node24 runners; with
    // the runtime named as one it knows, nothing else may be wrong.
    expect(messages(validateAction(text.replace('using: node24', 'using: node20')).errors)).toEqual([]);
    expect(messages(validateAction(text).errors).join('\n')).toMatch(/^\/runs OneOf[^]*\/runs\/using Enum conditions are not met/);
  });

  it('its own workflows are valid against GitHub workflow schema, and pin every action to a commit SHA', () => {
    const dir = join(root, '.github/workflows');
    const names = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const text = readFileSync(join(dir, name), 'utf8');
      expect(messages(validateWorkflow(text).errors), name).toEqual([]);
      for (const m of text.matchAll(/^\s*(?:- )?uses: (\S+)/gm)) expect(m[1], name).toMatch(/^[\w.-]+\/[\w.\/-]+@[0-9a-f]{40}$/);
    }
  });
});
