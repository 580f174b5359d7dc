import type { DumpCatalog, DumpReader, DumpWriter } from '../dump-catalog.js';
import { SqliteDumpReader } from './sqlite-dump-reader.js';
import { SqliteDumpWriter } from './sqlite-dump-writer.js';

/**
 * {@link DumpCatalog} of the SQLite catalog: each reader and writer has its own connection to
 * the catalog file (a snapshot or a restore outlives many awaits, which the shared connection
 * and its write batcher must not be held across).
 */
export class SqliteDump implements DumpCatalog {
  constructor(
    private readonly file: string,
    private readonly nativeBinding: unknown,
    /** Resolves once the catalog's own connection has nothing due that a restore would block. */
    private readonly quiesce: () => Promise<void>,
  ) {}

  async open(): Promise<DumpReader> {
    return SqliteDumpReader.open(this.file, this.nativeBinding);
  }

  async restore(): Promise<DumpWriter> {
    await this.quiesce();
    return SqliteDumpWriter.open(this.file, this.nativeBinding);
  }
}
