import { Writable } from 'node:stream';
import pino from 'pino';
import { DomainEvents } from './domain-events';

interface Event {
  id: string;
  secret?: string;
}

function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

function fanOut(delivered?: (event: Event) => Promise<void>) {
  const { log, lines } = capturedLog();
  const events = new DomainEvents<Event>({ name: 'thing', log, ids: (event) => ({ thingId: event.id }), repairedBy: 'the test dispatcher', ...(delivered ? { delivered } : {}) });
  return { events, lines };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('DomainEvents', () => {
  it('when listeners of both modes are registered, then they run in registration order', async () => {
    const { events } = fanOut();
    const seen: string[] = [];
    events.on('a', 'best-effort', () => void seen.push('a'));
    events.on('b', 'must-succeed', async () => void seen.push('b'));
    events.on('c', 'best-effort', () => void seen.push('c'));
    await events.publish({ id: '1' });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(events.registered()).toEqual([{ name: 'a', mode: 'best-effort' }, { name: 'b', mode: 'must-succeed' }, { name: 'c', mode: 'best-effort' }]);
  });

  it('when a best-effort listener fails, then the others still run, delivery is confirmed, and one line names the listener and ids only', async () => {
    const delivered: string[] = [];
    const { events, lines } = fanOut(async (event) => void delivered.push(event.id));
    const seen: string[] = [];
    events.on('push', 'best-effort', () => {
      throw new Error('socket gone');
    });
    events.on('timer', 'must-succeed', () => void seen.push('timer'));
    await events.publish({ id: '7', secret: '+8613800138000' });
    expect(seen).toEqual(['timer']);
    expect(delivered).toEqual(['7']);
    const failures = lines.filter((line) => String(line.msg).includes('listener failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 40, listener: 'push', mode: 'best-effort', thingId: '7' });
    expect(JSON.stringify(failures)).not.toContain('+8613800138000');
  });

  it('when a must-succeed listener fails, then delivery is not confirmed, an error is logged once, and a redelivery runs only the must-succeed listeners until they succeed', async () => {
    const delivered: string[] = [];
    const { events, lines } = fanOut(async (event) => void delivered.push(event.id));
    const calls: string[] = [];
    let failures = 1;
    events.on('push', 'best-effort', () => void calls.push('push'));
    events.on('webhook', 'must-succeed', () => {
      calls.push('webhook');
      if (failures-- > 0) throw new Error('store blip');
    });
    await events.publish({ id: '9' });
    expect(delivered).toEqual([]);
    expect(lines.filter((line) => line.level === 50)).toEqual([expect.objectContaining({ listener: 'webhook', mode: 'must-succeed', thingId: '9', repairedBy: 'the test dispatcher' })]);

    expect(await events.redeliver({ id: '9' })).toBe(true);
    expect(calls).toEqual(['push', 'webhook', 'webhook']);
    expect(delivered).toEqual(['9']);
    expect(events.failures()).toEqual({ webhook: 1 });
  });

  it('when marking the delivery fails, then redeliver says false (the mark stays for the next try)', async () => {
    const { events } = fanOut(async () => {
      throw new Error('store down');
    });
    events.on('timer', 'must-succeed', () => undefined);
    expect(await events.redeliver({ id: '3' })).toBe(false);
  });

  it('when no delivered hook is given (state-reconciled), then a must-succeed failure is logged and nothing else breaks', async () => {
    const { events, lines } = fanOut();
    events.on('route', 'must-succeed', () => {
      throw new Error('redis down');
    });
    await expect(events.publish({ id: '4' })).resolves.toBeUndefined();
    expect(lines.filter((line) => line.level === 50)).toHaveLength(1);
  });

  it('when a listener publishes while handling an event, then the new event waits behind the current one for every listener', async () => {
    const { events } = fanOut();
    const seen: string[] = [];
    events.on('first', 'must-succeed', async (event) => {
      seen.push(`first:${event.id}`);
      if (event.id === 'resolved') await events.publish({ id: 'notified' });
    });
    events.on('second', 'best-effort', async (event) => {
      await tick();
      seen.push(`second:${event.id}`);
    });
    await events.publish({ id: 'resolved' });
    expect(seen).toEqual(['first:resolved', 'second:resolved', 'first:notified', 'second:notified']);
  });

  it('when two causal chains publish at once, then neither waits in the other queue', async () => {
    const { events } = fanOut();
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    events.on('slow', 'best-effort', async (event) => {
      if (event.id === 'slow') await gate;
      seen.push(event.id);
    });
    const slow = events.publish({ id: 'slow' });
    await events.publish({ id: 'fast' });
    expect(seen).toEqual(['fast']);
    release();
    await slow;
    expect(seen).toEqual(['fast', 'slow']);
  });

  it('when work a listener started in the background publishes after the chain ended, then that event still reaches the listeners', async () => {
    const { events } = fanOut();
    const seen: string[] = [];
    let background!: Promise<void>;
    events.on('spawn', 'best-effort', (event) => {
      seen.push(event.id);
      if (event.id === 'first') background = new Promise<void>((resolve) => setTimeout(resolve, 5)).then(() => events.publish({ id: 'late' }));
    });
    await events.publish({ id: 'first' });
    await background;
    expect(seen).toEqual(['first', 'late']);
  });

  it('when nested publishing is inline, then an event published inside a listener is fanned out before the publisher goes on', async () => {
    const { log } = capturedLog();
    const events = new DomainEvents<Event>({ name: 'thing', log, ids: (event) => ({ thingId: event.id }), repairedBy: 'the reconciler', nested: 'inline' });
    const seen: string[] = [];
    events.on('first', 'must-succeed', async (event) => {
      seen.push(`first:${event.id}`);
      if (event.id === 'a') {
        await events.publish({ id: 'b' });
        seen.push('after-b');
      }
    });
    await events.publish({ id: 'a' });
    expect(seen).toEqual(['first:a', 'first:b', 'after-b']);
  });

  it('when a must-succeed listener publishes during a redelivery, then the new event gets the full fan-out', async () => {
    const { events } = fanOut();
    const seen: string[] = [];
    events.on('push', 'best-effort', (event) => void seen.push(`push:${event.id}`));
    events.on('notify', 'must-succeed', async (event) => {
      seen.push(`notify:${event.id}`);
      if (event.id === 'old') await events.publish({ id: 'recorded' });
    });
    expect(await events.redeliver({ id: 'old' })).toBe(true);
    expect(seen).toEqual(['notify:old', 'push:recorded', 'notify:recorded']);
  });
});
