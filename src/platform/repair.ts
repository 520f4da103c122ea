/**
 * One kind of state the reconciler rebuilds in Redis from MongoDB (waiting contacts, SLA timers,
 * pending sends…). `run` makes Redis agree with what MongoDB says is due and returns how many items
 * it had to put back (0 when nothing was missing). It must be idempotent and safe on many nodes at
 * once: job ids derived from the item, enqueues that ignore what is already there.
 */
export interface Repair {
  name: string;
  run(): Promise<number>;
}
