// What commands share when they read the main branch: the registry's main branch as records, ids as typed,
// the benchmark's cubes made ready to run, and the errors that say what to do next.
import { UsageError } from 'clipanion';
import { MedperfError, NotFoundError } from '../registry/errors.ts';
import { readByCommittee, requiredRecipients, sealedResult, sealMetrics, type EnvelopeRecipient } from '../registry/envelope.ts';
import { branchFor, type FileChange, type Forge } from '../registry/forge/forge.ts';
import { NAME, paths } from '../registry/layout.ts';
import { createView } from '../registry/load.ts';
import { publishedUnder } from '../registry/metrics.ts';
import type { BenchmarkRecord, Metrics, PersonRecord, ResultRecord } from '../registry/records.ts';
import { signResults, type ResultSigner } from '../registry/signing.ts';
import { outgoingVersion } from '../registry/run-plan.ts';
import { closeTree } from '../registry/trees.ts';
import type { LoadedRecord, RegistryView } from '../registry/view.ts';
import { materializeCube, type RegisteredCube } from './cube/materialize.ts';
import { recordYaml } from '../registry/record-yaml.ts';
import { modelKeyring } from './private-models.ts';
import { type LocalResult, resultRecord, writeLocalResult } from './results.ts';

/** Runs `fn` on a view of the registry's main branch, releasing the tree afterwards. */
export async function withMain<T>(forge: Forge, fn: (view: RegistryView) => Promise<T>): Promise<T> {
  const tree = await forge.main();
  try {
    return await fn(createView(tree));
  } finally {
    await closeTree(tree);
  }
}

/** A dataset or cube id as typed: `owner/name`, or `name` for the acting login's own. */
export function qualify(id: string, login: string, what: string): string {
  const full = id.includes('/') ? id : login ? `${login}/${id}` : '';
  if (!full) throw new UsageError(`${what} ${id}: say owner/name, or act as someone (--as LOGIN)`);
  if (!new RegExp(`^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/${NAME}$`).test(full)) throw new UsageError(`${what} ${id}: not an owner/name id`);
  return full;
}

/** The pending PR for a path, if any, for messages. */
export async function pendingPull(forge: Forge, path: string): Promise<number | undefined> {
  const open = await forge.listPulls({ state: 'open', paths: [path] });
  return open[0]?.number;
}

/**
 * A cube of main made runnable by `login`: fetched and verified, a private model decrypted with
 * the login's grant (preconditions.ts registeredCube only reads its record).
 */
export async function runnableCube(view: RegistryView, stateDir: string, id: string, login: string): Promise<RegisteredCube> {
  const cube = await view.cube(id);
  if (!cube) throw new NotFoundError(`the cube ${id} is not in the registry's main branch`);
  return materializeCube(id, cube.data, { stateDir, keyring: modelKeyring(stateDir, login, view) });
}

export async function benchmarkCubes(view: RegistryView, stateDir: string, bench: BenchmarkRecord, login: string) {
  return {
    preparator: await runnableCube(view, stateDir, bench.data_preparation_mlcube, login),
    evaluator: await runnableCube(view, stateDir, bench.data_evaluator_mlcube, login),
  };
}

export interface OutgoingResult {
  result: LocalResult;
  path: string;
  yaml: string;
  version: number;
  /** Metric names of the local result its benchmark does not declare: they stay on this machine. */
  left: string[];
}

/**
 * The result records to send for local results: version 1, or the registered version + 1 for a
 * rerun (results are append-only), signed together by `signer` (cli/keys.ts signerOnMain), one
 * signature for the pull request. Results the registry already holds exactly are left out.
 */
export async function outgoingResults(view: RegistryView, results: LocalResult[], signer: ResultSigner | undefined): Promise<{ send: OutgoingResult[]; alreadyRegistered: LocalResult[] }> {
  const planned: Array<{ result: LocalResult; path: string; record: ResultRecord; version: number; left: string[]; metrics: Metrics; sealedFor?: string }> = [];
  const alreadyRegistered: LocalResult[] = [];
  for (const result of results) {
    const path = paths.result(result.benchmark, result.dataset, result.model);
    const existing = (await view.record(path)) as LoadedRecord<'result'> | undefined;
    const bench = await view.benchmark(result.benchmark);
    if (!bench) throw new NotFoundError(`no benchmark ${result.benchmark} on the registry's main branch; nothing was submitted`);
    const { kept: metrics, left } = publishedUnder(result.benchmark, bench.data, 'metric_names', result.metrics);
    const version = outgoingVersion(existing?.data, { executed_at: result.executed_at, metrics });
    if (version === undefined) {
      alreadyRegistered.push(result);
      continue;
    }
    const { record } = resultRecord({ ...result, metrics }, version);
    planned.push({ result, path, record, version, left, metrics, ...(readByCommittee(bench.data) ? { sealedFor: result.benchmark } : {}) });
  }
  // Without a signer (`run --no-submit`) nothing here leaves this machine.
  let written = signer ? signResults(planned.map((p) => p.record), signer) : planned.map((p) => p.record);
  // Under a committee-only policy the metrics go out encrypted, with the data owner's signature of
  // the result in clear inside; the sealed records are then signed together again.
  if (signer && planned.some((p) => p.sealedFor)) {
    const sealed: ResultRecord[] = [];
    for (const [i, p] of planned.entries()) {
      if (!p.sealedFor) {
        sealed.push(written[i]!);
        continue;
      }
      const bench = (await view.benchmark(p.sealedFor))!;
      const recipients = await committeeRecipients(view, p.sealedFor, bench.data, p.result.dataset.split('/')[0]!, 'nothing was submitted');
      const envelope = await sealMetrics({ metrics: p.metrics, signature: written[i]!.signature! }, recipients);
      sealed.push(sealedResult(p.record, envelope));
    }
    written = signResults(sealed, signer);
  }
  const send = planned.map((p, i) => ({ result: p.result, path: p.path, yaml: recordYaml('result', p.path, written[i]!), version: p.version, left: p.left }));
  return { send, alreadyRegistered };
}

/**
 * Whom a result of `dataOwner` under the committee-only benchmark is encrypted to, from main's
 * people/ records and registry.yaml; refuses, naming who must publish keys, when one is missing.
 */
export async function committeeRecipients(view: RegistryView, benchmark: string, bench: BenchmarkRecord, dataOwner: string, after: string): Promise<EnvelopeRecipient[]> {
  const readers = [dataOwner, ...bench.committee];
  const people = new Map<string, PersonRecord | undefined>();
  for (const login of readers) people.set(login.toLowerCase(), (await view.person(login))?.data);
  const config = await view.registryConfig();
  const { recipients, missing, noSite } = requiredRecipients({ dataOwner, committee: bench.committee, person: (l) => people.get(l.toLowerCase()), siteRecipient: config?.site_recipient });
  const problems: string[] = [];
  if (missing.length) {
    problems.push(
      `${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} published no keys: ${missing.length === 1 ? 'they run' : 'each runs'} \`medperf-git keys init\` and \`medperf-git keys publish\` (and the pull request is merged)`,
    );
  }
  if (noSite) problems.push(`registry.yaml names no site_recipient: a registry admin (${config?.admins.join(', ') ?? 'see registry.yaml'}) adds the site key's age recipient to it`);
  if (problems.length) {
    throw new MedperfError(
      'recipient-without-keys',
      `the results of ${benchmark} are read by its committee only, so they are encrypted to the data owner, the committee (${bench.committee.join(', ')}) and the site; but ${problems.join('; and ')}; ${after}`,
    );
  }
  return recipients;
}

/** One pull request with the result records; remembers locally which PR carries each result. */
export async function proposeResults(forge: Forge, stateDir: string, key: string, benchmark: string, outgoing: OutgoingResult[]) {
  const datasets = [...new Set(outgoing.map((o) => o.result.dataset))];
  const body = [
    `Results of \`${benchmark}\` on ${datasets.map((d) => `\`${d}\``).join(', ')}: metrics and the hashes that produced them, nothing else.`,
    '',
    '| model | dataset | version | partial |',
    '|---|---|---|---|',
    ...outgoing.map((o) => `| ${o.result.model} | ${o.result.dataset} | ${o.version} | ${o.result.partial ? 'yes' : 'no'} |`),
    '',
    'Results need no reviewer: the checks merge them when every model and dataset is approved for the benchmark.',
    '',
    'Opened by medperf-git.',
  ].join('\n');
  const files: FileChange[] = outgoing.map((o) => ({ path: o.path, content: o.yaml }));
  // A re-proposal replaces the open PR's files: keep the results it already carries.
  const open = (await forge.listPulls({ state: 'open', author: forge.login })).find((p) => p.branch === branchFor(key));
  if (open) {
    const tree = await forge.pullTree(open.number);
    try {
      for (const path of open.paths) {
        if (files.some((f) => f.path === path)) continue;
        const bytes = await tree.read(path);
        if (bytes) files.push({ path, content: bytes });
      }
    } finally {
      await closeTree(tree);
    }
  }
  const proposed = await forge.propose({ key, title: `Results of ${benchmark} on ${datasets.join(', ')}`, body, files });
  const at = new Date().toISOString();
  for (const o of outgoing) {
    await writeLocalResult(stateDir, { ...o.result, submitted: { pull: proposed.pull.number, url: proposed.pull.url, at, version: o.version } });
  }
  return proposed;
}
