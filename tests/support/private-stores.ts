// Moved to scripts/standins/private-stores.ts so the chaos run (bench/chaos) can use it too; kept
// here so tests written against this path keep working.
export * from '../../scripts/standins/private-stores';
