import type { Connection } from 'mongoose';
import { customerModels } from '../src/customers/customer.model';
import { interactionModels } from '../src/interactions/interaction.model';
import { buildBatch, datasetVersion, type DatasetSize } from './dataset';

export interface DatasetMarker {
  _id: 'dataset';
  version: number;
  size: DatasetSize;
  state: 'loading' | 'complete';
  /** While loading: every customer below this index is stored with everything it owns. */
  nextCustomer: number;
  startedAt: Date;
  completedAt?: Date;
  /** Insert time of all attempts together (a resumed load adds to it after every batch). */
  loadSeconds?: number;
  indexSeconds?: number;
}

export interface LoadReport {
  loaded: boolean;
  marker: DatasetMarker;
  /** This run's load time (not counting an earlier interrupted attempt). */
  seconds?: number;
}

const metaCollection = 'bench_meta';

function markerCollection(connection: Connection) {
  if (!connection.db) throw new Error('mongo not connected');
  return connection.db.collection<DatasetMarker>(metaCollection);
}

export async function readMarker(connection: Connection): Promise<DatasetMarker | null> {
  return markerCollection(connection).findOne({ _id: 'dataset' });
}

const duplicateKey = 11000;

/** insertMany that tolerates documents already stored (a resumed load repeats one batch). */
async function insertAll<T>(insert: (docs: T[]) => Promise<unknown>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await insert(docs);
  } catch (error) {
    const writeErrors = (error as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
    const onlyDuplicates = Array.isArray(writeErrors) && writeErrors.length > 0 && writeErrors.every((writeError) => (writeError.code ?? writeError.err?.code) === duplicateKey);
    if (!onlyDuplicates) throw error;
  }
}

export interface LoadOptions {
  size: DatasetSize;
  reload: boolean;
  batchCustomers: number;
  progress: (line: string) => void;
}

/**
 * Makes sure the dataset of `size` is stored, loading it if the marker says otherwise. Give it a
 * connection opened with `autoIndex: false`, so indexes are built once after the load.
 *
 * This is a fixture loader, not the domain path: it writes the documents the services would have
 * written (same models, same shapes) with `insertMany` in bulk. Going through
 * `resolveCustomer`/`recordInboundEvent` would cost several round trips and a Redis lock per entry,
 * i.e. hours for a million entries, and would measure the write path rather than set up the reads.
 */
export async function ensureDataset(connection: Connection, options: LoadOptions): Promise<LoadReport> {
  const { size, progress } = options;
  const meta = markerCollection(connection);
  const existing = await readMarker(connection);
  const sameDataset = existing?.version === datasetVersion && existing.size.customers === size.customers;
  if (!options.reload && sameDataset && existing.state === 'complete') return { loaded: false, marker: existing };

  let start = 0;
  let earlierSeconds = 0;
  if (!options.reload && sameDataset && existing.state === 'loading') {
    start = existing.nextCustomer;
    earlierSeconds = existing.loadSeconds ?? 0;
    progress(`resuming an interrupted load at customer ${start.toLocaleString('en-US')}`);
  } else {
    if (existing || options.reload) progress(`dropping database ${connection.name} (${options.reload ? '--reload' : 'different dataset version or size'})`);
    await connection.dropDatabase();
  }

  const { Customer, Identity } = customerModels(connection);
  const { Interaction, Timeline } = interactionModels(connection);
  const startedAt = new Date();
  if (start === 0) {
    await meta.insertOne({ _id: 'dataset', version: datasetVersion, size, state: 'loading', nextCustomer: 0, startedAt });
  }

  const began = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - began) / 1e9;
  let customersDone = 0;
  let entriesDone = 0;
  let docsDone = 0;
  progress(
    `loading ${size.customers.toLocaleString('en-US')} customers, ${size.interactions.toLocaleString('en-US')} interactions, ` +
      `${size.entries.toLocaleString('en-US')} entries into ${connection.name} (batches of ${options.batchCustomers.toLocaleString('en-US')} customers)`,
  );
  for (let from = start; from < size.customers; from += options.batchCustomers) {
    const to = Math.min(from + options.batchCustomers, size.customers);
    const batch = buildBatch(from, to);
    // One collection after the other: SQLite has a single writer per database file, so parallel
    // inserts into the same database only wait on each other (measured: no faster).
    await insertAll((docs) => Customer.insertMany(docs, { ordered: false, lean: true }), batch.customers);
    await insertAll((docs) => Identity.insertMany(docs, { ordered: false, lean: true }), batch.identities);
    await insertAll((docs) => Interaction.insertMany(docs, { ordered: false, lean: true }), batch.interactions);
    await insertAll((docs) => Timeline.insertMany(docs, { ordered: false, lean: true }), batch.timelines);
    await meta.updateOne({ _id: 'dataset' }, { $set: { nextCustomer: to, loadSeconds: earlierSeconds + seconds() } });
    customersDone += to - from;
    entriesDone += batch.entries;
    docsDone += batch.customers.length + batch.identities.length + batch.interactions.length + batch.timelines.length;
    const elapsed = seconds();
    const remaining = size.customers - to;
    const eta = customersDone > 0 ? (elapsed / customersDone) * remaining : 0;
    progress(
      `  customers ${to.toLocaleString('en-US').padStart(9)}/${size.customers.toLocaleString('en-US')}  ` +
        `entries ${(entriesDone).toLocaleString('en-US').padStart(10)}  ` +
        `${Math.round(docsDone / elapsed).toLocaleString('en-US')} docs/s  ${Math.round(entriesDone / elapsed).toLocaleString('en-US')} entries/s  ` +
        `elapsed ${elapsed.toFixed(0)} s  eta ${eta.toFixed(0)} s`,
    );
  }
  const loadSeconds = earlierSeconds + seconds();

  // Secondary indexes after the bulk load, as bulk loads do (the loader's connection has autoIndex
  // off); the app's own startup then finds them in place.
  progress("building the models' indexes");
  const indexBegan = process.hrtime.bigint();
  for (const model of [Customer, Identity, Interaction, Timeline]) await model.createIndexes();
  const indexSeconds = Number(process.hrtime.bigint() - indexBegan) / 1e9;

  const completed: Partial<DatasetMarker> = { state: 'complete', nextCustomer: size.customers, completedAt: new Date(), loadSeconds, indexSeconds };
  await meta.updateOne({ _id: 'dataset' }, { $set: completed });
  const marker = await readMarker(connection);
  if (!marker) throw new Error('dataset marker vanished after loading');
  progress(`loaded in ${loadSeconds.toFixed(1)} s, indexes in ${indexSeconds.toFixed(1)} s`);
  return { loaded: true, marker, seconds: loadSeconds + indexSeconds };
}
