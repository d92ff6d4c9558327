// The contracts between loading and checking: a tree of files (a working directory, a git
// revision, or memory), and a view of the records in it. Rules read records through a
// RegistryView; a view parses a file only when asked, so checking a one-record change costs what
// that record and the records it names cost, however large the registry.
import type { RecordKind, RecordPath } from './layout.ts';
import type {
  BenchmarkRecord,
  CubeRecord,
  DatasetAssociationRecord,
  DatasetRecord,
  ModelAssociationRecord,
  ModelGrantRecord,
  PersonRecord,
  RegistryConfig,
  ResultRecord,
} from './records.ts';

/** A tree of files. Paths are POSIX, relative to the registry root. */
export interface FileTree {
  /** Every file path under the prefix ('' for all), sorted. */
  list(prefix?: string): Promise<string[]>;
  /** The bytes of one file, or undefined when it does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  has(path: string): Promise<boolean>;
  /** Where this tree comes from, for messages: a folder, `git:<rev>`, or `memory`. */
  readonly label: string;
}

export interface RecordTypes {
  registry: RegistryConfig;
  cube: CubeRecord;
  dataset: DatasetRecord;
  benchmark: BenchmarkRecord;
  'model-association': ModelAssociationRecord;
  'dataset-association': DatasetAssociationRecord;
  result: ResultRecord;
  person: PersonRecord;
  'model-grant': ModelGrantRecord;
}

export interface Position {
  line: number;
  column: number;
}

/** One parsed, schema-valid record. */
export interface LoadedRecord<K extends RecordKind = RecordKind> {
  where: Extract<RecordPath, { kind: K }>;
  data: RecordTypes[K];
  /** The source position of a JSON pointer into the record ('' for the file), for findings. */
  locate(pointer: string): Position;
}

/** Records of one tree, parsed on demand and cached. */
export interface RegistryView {
  readonly tree: FileTree;
  /** The record at a path; undefined when the file is missing, outside the layout, or invalid. */
  record(path: string): Promise<LoadedRecord | undefined>;
  registryConfig(): Promise<RegistryConfig | undefined>;
  cube(id: string): Promise<LoadedRecord<'cube'> | undefined>;
  dataset(id: string): Promise<LoadedRecord<'dataset'> | undefined>;
  benchmark(name: string): Promise<LoadedRecord<'benchmark'> | undefined>;
  modelAssociation(benchmark: string, model: string): Promise<LoadedRecord<'model-association'> | undefined>;
  datasetAssociation(benchmark: string, dataset: string): Promise<LoadedRecord<'dataset-association'> | undefined>;
  /** The published keys of a login (people/<login>.yaml). */
  person(login: string): Promise<LoadedRecord<'person'> | undefined>;
  /** The grant of a private model's key to a login (mlcubes/<owner>/<name>/grants/<login>.yaml). */
  modelGrant(model: string, login: string): Promise<LoadedRecord<'model-grant'> | undefined>;
}

/**
 * What a rule is given. Full validation: every record path of head in `changed`, and no base.
 * A change (a PR): the paths it touches, the merge base's view, and who authored it.
 */
export interface RuleContext {
  head: RegistryView;
  base?: RegistryView;
  /** Paths added, modified or deleted (deleted paths exist only in base). */
  changed: string[];
  author?: string;
}

export interface Rule {
  id: import('./findings.ts').RuleId;
  check(ctx: RuleContext): Promise<import('./findings.ts').Finding[]>;
}
