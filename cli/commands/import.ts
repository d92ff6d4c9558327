import { Command, Option, UsageError } from 'clipanion';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as t from 'typanion';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../../registry/errors.ts';
import { branchFor, type FileChange, type Forge } from '../../registry/forge/forge.ts';
import { LocalForge } from '../../registry/forge/local.ts';
import { resolveRegistry } from '../profile.ts';
import { MissingLoginsError, planImport, settleImport, type ImportReport, type RecordSerializer } from '../../registry/import/medperf.ts';
import { personRecordFor } from '../../registry/identity.ts';
import type { PersonRecord, ResultRecord } from '../../registry/records.ts';
import { signResults } from '../../registry/signing.ts';
import { KeysError, readIdentity } from '../keys.ts';
import { LOGIN, paths, sameLogin } from '../../registry/layout.ts';
import { includesLogin } from '../../registry/rules/ownership.ts';
import { registryYaml } from '../../registry/scaffold/index.ts';
import { parseRecordYaml } from '../../registry/yaml.ts';
import { BaseCommand, exclusiveOptions } from '../base.ts';
import { forgeFor } from '../forge.ts';
import { readServer } from '../medperf-server.ts';
import { recordYaml } from '../../registry/record-yaml.ts';
import { VERSION } from '../version.ts';

export class ImportCommand extends BaseCommand {
  static override paths = [['import']];
  static override usage = Command.Usage({
    category: 'Registry',
    description: "Import a MedPerf server's benchmarks, cubes, datasets, associations and results into a registry, local or on GitHub",
    details: `
      Reads the server's REST API (every page of every list) and writes a registry: numeric ids
      become \`<owner>/<name>\` ids, server users become logins through the \`--logins\` file (the
      import names every user it needs and guesses none), names are made path-safe, and two
      entities that would share a path are both reported and neither is renamed.

      Every hash, state and auto-approval policy is carried over. APPROVED entities become records
      on main, PENDING ones open pull requests (as their owner), REJECTED ones are listed. What
      medperf-git would refuse is listed with its server id, as is every server field the import
      cannot carry. Cube configs live on the server, not at a URL: the import writes each
      container_config.yaml and parameters.yaml under \`--assets\` (content addressed) and the records
      point at \`--assets-url\`; publish that folder there when others must run the cubes.

      \`--registry OWNER/REPO\` imports into a registry on GitHub, as one of its admins (the token's
      login): the approved records are pushed to its main in one commit (refused when main moved
      meanwhile or may not be written), and the pending ones open pull requests from that login,
      each naming its owner. Give \`--assets\` and the https \`--assets-url\` it is published at.

      Running it again changes nothing; a later import adds what is new on the server.
    `,
    examples: [
      ['Import a server into a new local registry', '$0 import --server https://api.medperf.org --token "$MEDPERF_TOKEN" --logins logins.yaml --into ./registry --admin alice'],
      ['Import it into a registry on GitHub', '$0 import --server https://api.medperf.org --logins logins.yaml --registry mlcommons/medperf-registry --assets ./assets --assets-url https://mlcommons.github.io/medperf-assets'],
      ['List the server users the logins file must name', '$0 import --server https://api.medperf.org --token "$MEDPERF_TOKEN" --into ./registry'],
    ],
  });

  server = Option.String('--server', { required: true, description: 'The MedPerf server, such as https://api.medperf.org' });
  token = Option.String('--token', { description: "An access token of the server (an admin's sees every entity; default: $MEDPERF_TOKEN)" });
  logins = Option.String('--logins', { description: 'A YAML file mapping each server username to a login: "testbo: alice"' });
  static override schema = [exclusiveOptions(['into', 'registry'], '--into and --registry both name the registry to write; give one')];

  into = Option.String('--into', { description: 'The local registry folder to write (created when missing)' });
  admins = Option.Array('--admin', { description: "The registry's admins, when it has no registry.yaml yet (repeat for more)" });
  assets = Option.String('--assets', { description: 'Where cube configs are written (default: assets/ in the registry folder)' });
  assetsUrl = Option.String('--assets-url', { description: 'The URL that folder is published at (default: its file:// URL)' });
  pageSize = Option.String('--page-size', '32', { description: 'Entries per page asked of the server (default: 32)', validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 1000)]) });

  async execute(): Promise<number> {
    // A local registry folder (--into, or --registry naming one), or a repository on GitHub.
    let root: string | undefined;
    if (this.into) root = resolve(this.context.cwd, this.into);
    else if (this.registry) {
      const { spec } = await resolveRegistry({ registry: this.registry, env: this.context.env, stateDir: this.stateDir, cwd: this.context.cwd });
      if (spec.kind === 'local') root = spec.root;
      else if (!this.assets || !this.assetsUrl) {
        throw new UsageError(`${this.registry} is on GitHub: say where the cube configs are written (--assets DIR) and the URL that folder is published at (--assets-url), so that others can fetch them`);
      }
    } else throw new UsageError('say where to write the registry: --into DIR, or --registry (a local registry folder, or OWNER/REPO on GitHub)');
    for (const a of this.admins ?? []) if (!new RegExp(`^${LOGIN}$`).test(a)) throw new UsageError(`--admin ${a} is not a GitHub login`);

    const logins = this.logins ? await readLogins(resolve(this.context.cwd, this.logins)) : {};
    const assetsDir = resolve(this.context.cwd, this.assets ?? join(root!, 'assets'));
    const assetsUrl = this.assetsUrl ?? pathToFileURL(assetsDir).href;

    const snapshot = await readServer({
      server: this.server,
      token: this.token ?? this.context.env.MEDPERF_TOKEN,
      pageSize: Number(this.pageSize),
    });
    let plan;
    try {
      plan = planImport(snapshot, { logins, assetsUrl, medperfGitVersion: VERSION });
    } catch (error) {
      if (!(error instanceof MissingLoginsError)) throw error;
      const template = error.usernames.map((u) => `${u}: LOGIN`).join('\n');
      throw new MedperfError('logins-missing', `${error.message}${this.logins ? ` (${this.logins})` : ' (--logins FILE)'}:\n${template}\nNothing was written.`);
    }

    // On a local registry each record is written as its owner; on GitHub, as the token's login,
    // the one identity there is (pending records' pull requests name their owner in the body).
    const forges = new Map<string, Forge>();
    const github = root === undefined ? await forgeFor(this) : undefined;
    const forgeAs = async (login: string): Promise<Forge> => {
      if (github) return github;
      return forges.get(login) ?? forges.set(login, await LocalForge.open({ root: root!, login })).get(login)!;
    };
    const registry = github ? github.registry : root!;
    try {
      const reader = await forgeAs('');
      forges.set('', reader);
      const mainTree = await reader.main();
      const base: Record<string, string> = {};
      for (const path of await mainTree.list()) base[path] = (await mainTree.read(path))!.toString('utf8');

      const onMain = { ...base };
      let admins = this.admins;
      if (!base['registry.yaml']) {
        if (!admins?.length) throw new UsageError(`${registry} has no registry.yaml yet: name its admins with --admin LOGIN`);
        const host = new URL(this.server).host;
        base['registry.yaml'] = registryYaml({ title: `Imported from the MedPerf server ${host}`.slice(0, 200), admins });
      }
      admins ??= (parseRecordYaml('registry.yaml', Buffer.from(base['registry.yaml']!)).data as { admins?: string[] } | undefined)?.admins;
      if (github && !includesLogin(admins ?? [], github.login)) {
        throw new MedperfError('not-admin', `${github.login} is not an admin of ${registry} (admins: ${(admins ?? []).join(', ')}): an admin imports a server into it (nothing was written)`);
      }
      // Imported results were never signed by their data owners: the importing admin signs them,
      // marked as imported, with the key they publish here (people/<admin>.yaml, written to main).
      const importer = github ? github.login : (this.as ?? admins![0]!);
      const keysInit = github ? 'medperf-git keys init' : `medperf-git keys init --as ${importer}`;
      const serialize = await importSigner(this.stateDir, importer, base, plan.records.some((r) => r.kind === 'result'), keysInit);
      const settled = await settleImport(plan, base, serialize);

      // The cube configs first: a record never points at a file not yet written.
      for (const a of settled.plan.assets) {
        const file = join(assetsDir, a.path);
        await mkdir(dirname(file), { recursive: true });
        await writeFileAtomic(file, a.content);
      }

      const mainChanges: FileChange[] = Object.keys(settled.main)
        .filter((p) => settled.main[p] !== onMain[p])
        .sort()
        .map((p) => ({ path: p, content: settled.main[p]! }));
      let commit: string | undefined;
      if (mainChanges.length) {
        const writer = await forgeAs(importer);
        commit = await writer.commitToMain(mainChanges, `Import ${mainChanges.length} approved record${mainChanges.length === 1 ? '' : 's'} from the MedPerf server ${new URL(this.server).host}`);
      }

      // Pending entities: one pull request each, opened as its owner; never reopened once decided.
      const everyPull = await reader.listPulls({ state: 'all' });
      const pulls: Array<{ source: string; path: string; number: number; state: string }> = [];
      for (const r of settled.pending) {
        if (onMain[r.path] === r.content) continue;
        const key = `import/${r.path.replace(/\.yaml$/, '')}`;
        const earlier = everyPull.find((p) => p.branch === branchFor(key) && p.state !== 'open');
        if (earlier) {
          pulls.push({ source: r.source, path: r.path, number: earlier.number, state: earlier.state });
          continue;
        }
        const forge = await forgeAs(r.author);
        const onBehalf = github && !sameLogin(github.login, r.author) ? ` Opened by ${github.login} on behalf of @${r.author}, its owner on the server.` : '';
        const proposed = await forge.propose({
          key,
          title: `Import ${r.path} (MedPerf ${r.source}, pending)`,
          body: `Pending on the MedPerf server ${new URL(this.server).host} as ${r.source}; imported by \`medperf-git import\`. Approving and merging this pull request approves it here.${onBehalf}`,
          files: [{ path: r.path, content: r.content }],
        });
        pulls.push({ source: r.source, path: r.path, number: proposed.pull.number, state: proposed.created ? 'opened' : proposed.pushed ? 'updated' : 'open' });
      }

      const written = mainChanges.map((c) => c.path);
      if (this.json) {
        this.printJson({ registry, commit: commit ?? null, main: written, pulls, assets: settled.plan.assets.map((a) => join(assetsDir, a.path)), report: settled.plan.report });
        return 0;
      }
      this.print(`Read ${snapshot.benchmarks.length} benchmarks, ${snapshot.mlcubes.length} cubes, ${snapshot.models.length} models, ${snapshot.datasets.length} datasets, ` +
        `${snapshot.datasetAssociations.length + snapshot.modelAssociations.length} associations and ${snapshot.results.length} results from ${this.server}.`);
      if (written.length) {
        this.print(`Main of ${registry} (commit ${commit!.slice(0, 12)}):`);
        for (const p of written) this.print(`  + ${p}`);
      } else this.print(`Main of ${registry}: nothing new.`);
      if (pulls.length) {
        this.print('Pending on the server, so pull requests:');
        for (const p of pulls) this.print(`  #${p.number} ${p.state}: ${p.path} (${p.source})`);
      }
      printReport(this, settled.plan.report);
      return 0;
    } finally {
      for (const f of forges.values()) await f.dispose();
      await github?.dispose();
    }
  }
}

/**
 * How imported records are written: results signed by the importing admin (`imported: true`), whose
 * published keys are added to `base` (the main the import writes) when they are not there yet.
 * An import with results refuses, before writing anything, an admin without keys on this machine.
 */
async function importSigner(stateDir: string, admin: string, base: Record<string, string>, hasResults: boolean, keysInit: string): Promise<RecordSerializer> {
  const unsigned: RecordSerializer = (records) => records.map((r) => recordYaml(r.kind, r.path, r.data));
  if (!hasResults) return unsigned;
  const identity = await readIdentity(stateDir, admin);
  if (!identity) {
    throw new KeysError('no-keys', `${admin} has no keys on this machine: run \`${keysInit}\` first: imported results are signed by the admin who imports them (their data owners never signed them); nothing was written`);
  }
  const path = paths.person(admin);
  const text = base[path];
  const published = text ? (parseRecordYaml(path, Buffer.from(text)).data as PersonRecord | undefined) : undefined;
  const record = personRecordFor(identity.keys, published);
  if (record) base[path] = recordYaml('person', path, record);
  const signer = { login: admin, keyVersion: (record ?? published!).version, privateKey: identity.signingKey, imported: true };
  // The imported results are signed together: one signature, each record with its proof.
  return (records) => {
    const results = records.filter((r) => r.kind === 'result');
    const signed = new Map(signResults(results.map((r) => r.data as ResultRecord), signer).map((data, i) => [results[i]!.path, data]));
    return records.map((r) => recordYaml(r.kind, r.path, signed.get(r.path) ?? r.data));
  };
}

function printReport(command: BaseCommand, report: ImportReport): void {
  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    command.print(title);
    for (const l of lines) command.print(`  ${l}`);
  };
  section('Rejected on the server, not imported:', report.rejected.map((r) => `${r.source}: ${r.reason}`));
  section('Refused (medperf-git would not accept them):', report.refused.map((r) => `${r.source}: ${r.reason}`));
  section('Name collisions (nothing renamed, neither imported):', report.collisions.map((c) => `${c.path}: ${c.sources.join(', ')}`));
  section('Chosen where the server has no value:', report.chosen.map((r) => `${r.source}: ${r.reason}`));
  section('Server fields not carried:', report.notCarried.map((n) => `${n.source}: ${n.fields.join(', ')}`));
}

/** The logins file: `<server username>: <login>` lines. Errors name the file, line and entry. */
async function readLogins(file: string): Promise<Record<string, string>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new MedperfError('logins-file', `${file}: cannot read the logins file (${(error as NodeJS.ErrnoException).code})`);
  }
  const parsed = parseRecordYaml(file, bytes);
  if (parsed.findings.length) throw new MedperfError('logins-file', parsed.findings.map((f) => `${f.path}:${f.line}:${f.column} ${f.message}`).join('\n'));
  const data = parsed.data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new MedperfError('logins-file', `${file}:1:1 expected a mapping of server usernames to logins ("testbo: alice")`);
  const out: Record<string, string> = {};
  const lines = (parsed.text ?? '').split('\n');
  for (const [user, login] of Object.entries(data as Record<string, unknown>)) {
    const line = lines.findIndex((l) => l.trimStart().startsWith(`${user}:`) || l.trimStart().startsWith(`"${user}":`)) + 1 || 1;
    if (typeof login !== 'string' || !new RegExp(`^${LOGIN}$`).test(login)) {
      throw new MedperfError('logins-file', `${file}:${line}:1 ${user}: ${JSON.stringify(login)} is not a GitHub login`);
    }
    out[user] = login;
  }
  return out;
}
