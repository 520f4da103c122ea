import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from './logger';
import { isMongoUnreachable, isRedisUnreachable } from './store-outage';

/**
 * How much a listener's work matters once the change it reacts to is stored:
 * - `best-effort`: nice to have (a live push to a screen that a reload also shows). Run in order;
 *   a failure is logged once, with ids, and forgotten.
 * - `must-succeed`: work the change owes (a timer, a message to the customer, a webhook, a queued
 *   contact). Its intent is durable before the change is acknowledged, and the work is done again
 *   until it succeeds, so the listener MUST be idempotent: running it twice for one event, on one
 *   node or on two at once, must do the work once (job ids derived from the event, unique keys,
 *   checks against the stored state). How the intent is made durable is the emitter's choice:
 *   an outbox mark written with the change, cleared by `delivered` (tasks), or state the emitter
 *   stores anyway and a reconciler rebuilds the work from (interactions: a contact's status says
 *   it waits; the timer repairs re-create what stored due dates say).
 */
export type DeliveryMode = 'must-succeed' | 'best-effort';

export type DomainEventListener<E> = (event: E) => void | Promise<void>;

export interface DomainEventsOptions<E> {
  /** The fan-out's name in logs: `task`, `interaction`… */
  name: string;
  log: Logger;
  /** Ids that identify an event in a log line; never customer data (no phones, addresses, bodies). */
  ids(event: E): Record<string, unknown>;
  /**
   * Called once every must-succeed listener succeeded for an event (an outbox clears its mark).
   * Absent when must-succeed work is reconciled from stored state instead of an outbox.
   */
  delivered?(event: E): Promise<void>;
  /** Where a failed must-succeed listener's work is redone, for the log line (e.g. `the task outbox dispatcher`). */
  repairedBy: string;
  /**
   * An event published from inside a listener: `queue` (default) runs it behind the event being
   * handled, so every listener sees events in order; `inline` runs its fan-out right there and
   * the publisher waits for it (callers that read the listeners' effects right after a write).
   */
  nested?: 'queue' | 'inline';
}

interface Registered<E> {
  name: string;
  mode: DeliveryMode;
  listener: DomainEventListener<E>;
}

/** One causal chain's queue; closed once drained, so late work that inherited the context runs its own chain. */
interface Chain<E> {
  items: Array<Queued<E>>;
  open: boolean;
}

interface Queued<E> {
  event: E;
  /** Must-succeed listeners only (a redelivery: best-effort ones already had their one chance). */
  durableOnly: boolean;
  settled?: (delivered: boolean) => void;
}

/**
 * One module's event fan-out. Listeners run one after another in registration order, each
 * declared `must-succeed` or `best-effort` where it is registered. An event published from inside
 * a listener (a change the listener itself made) is queued behind the current one in the same
 * causal chain (async context, not process), so every listener sees events in the order they
 * happened. A failing listener never stops the others nor fails the change (it is stored).
 */
export class DomainEvents<E> {
  private readonly listeners: Array<Registered<E>> = [];
  private readonly chain = new AsyncLocalStorage<Chain<E>>();
  private readonly failed = new Map<string, number>();

  constructor(private readonly options: DomainEventsOptions<E>) {}

  /** Registers a listener; `name` appears in failure logs. */
  on(name: string, mode: DeliveryMode, listener: DomainEventListener<E>): void {
    this.listeners.push({ name, mode, listener });
  }

  /** Failures so far per listener name (for /metrics). */
  failures(): Record<string, number> {
    return Object.fromEntries(this.failed);
  }

  /** The registered listeners' names and modes, in order (for docs and tests). */
  registered(): Array<{ name: string; mode: DeliveryMode }> {
    return this.listeners.map(({ name, mode }) => ({ name, mode }));
  }

  /**
   * Tells every listener about a stored change. Called from inside a listener, the event is queued
   * behind the one being handled and this returns at once (awaiting it there would deadlock).
   */
  async publish(event: E): Promise<void> {
    const current = this.chain.getStore();
    if (current?.open && this.options.nested !== 'inline') {
      current.items.push({ event, durableOnly: false });
      return;
    }
    await this.drain({ event, durableOnly: false });
  }

  /**
   * Runs the must-succeed listeners again for an event whose delivery was not confirmed (the
   * process died, or a listener failed); true when all succeeded (and `delivered` was called).
   * Always a chain of its own, so a dispatcher may call it from anywhere.
   */
  async redeliver(event: E): Promise<boolean> {
    let result = false;
    await this.drain({
      event,
      durableOnly: true,
      settled: (delivered) => {
        result = delivered;
      },
    });
    return result;
  }

  /** Runs `first` and whatever its listeners publish meanwhile, in a chain of its own. */
  private async drain(first: Queued<E>): Promise<void> {
    const chain: Chain<E> = { items: [first], open: true };
    await this.chain.run(chain, async () => {
      try {
        for (let next = chain.items.shift(); next; next = chain.items.shift()) {
          const delivered = await this.deliver(next);
          next.settled?.(delivered);
        }
      } finally {
        chain.open = false;
      }
    });
  }

  /** Runs the listeners for one event; true when every must-succeed one succeeded and that was recorded. */
  private async deliver({ event, durableOnly }: Queued<E>): Promise<boolean> {
    let durableFailed = false;
    for (const { name, mode, listener } of this.listeners) {
      if (durableOnly && mode !== 'must-succeed') continue;
      try {
        await listener(event);
      } catch (error) {
        this.failed.set(name, (this.failed.get(name) ?? 0) + 1);
        const context = { err: error, listener: name, mode, ...this.options.ids(event) };
        if (mode === 'best-effort') {
          this.options.log.warn(context, `${this.options.name} listener failed (best-effort: not retried)`);
        } else {
          durableFailed = true;
          // A store outage is expected to fail must-succeed work (it is redone once the store is
          // back): one line without a stack, not an error per contact.
          if (isRedisUnreachable(error) || isMongoUnreachable(error)) this.options.log.warn({ listener: name, mode, ...this.options.ids(event), repairedBy: this.options.repairedBy }, `${this.options.name} listener failed: store unreachable (must-succeed: will be redone)`);
          else this.options.log.error({ ...context, repairedBy: this.options.repairedBy }, `${this.options.name} listener failed (must-succeed: will be redone)`);
        }
      }
    }
    if (durableFailed) return false;
    if (!this.options.delivered) return true;
    try {
      await this.options.delivered(event);
      return true;
    } catch (error) {
      // The work is done; the mark stays and a redelivery repeats idempotent work. Harmless.
      this.options.log.warn({ err: error, ...this.options.ids(event) }, `${this.options.name} delivery not marked done; it will be redelivered`);
      return false;
    }
  }
}
