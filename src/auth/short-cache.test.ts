import { ShortCache } from './short-cache';

describe('ShortCache', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000;
  });

  /** A loader that counts its reads and answers `value` as it is at read time. */
  const counting = (value: () => string) => {
    const loader = { reads: 0, load: async () => (loader.reads++, value()) };
    return loader;
  };

  it('when an id is asked again within the time, then it is read once; after the time, it is read again', async () => {
    const cache = new ShortCache<string>(5_000, 100, now);
    let stored = 'agent';
    const loader = counting(() => stored);
    expect(await cache.get('u1', loader.load)).toBe('agent');
    stored = 'supervisor';
    clock += 4_999;
    expect(await cache.get('u1', loader.load)).toBe('agent');
    expect(loader.reads).toBe(1);
    clock += 1;
    expect(await cache.get('u1', loader.load)).toBe('supervisor');
    expect(loader.reads).toBe(2);
  });

  it('when an id is deleted after a change, then the next get reads the change', async () => {
    const cache = new ShortCache<string>(5_000, 100, now);
    let stored = 'active';
    const loader = counting(() => stored);
    await cache.get('u1', loader.load);
    stored = 'disabled';
    cache.delete('u1');
    expect(await cache.get('u1', loader.load)).toBe('disabled');
  });

  it('when a read started before a change is still running as the id is deleted, then its value is not kept', async () => {
    const cache = new ShortCache<string>(5_000, 100, now);
    let finishOld!: (value: string) => void;
    const old = cache.get('u1', () => new Promise<string>((resolve) => (finishOld = resolve)));
    cache.delete('u1');
    finishOld('active');
    expect(await old).toBe('active');
    expect(await cache.get('u1', async () => 'disabled')).toBe('disabled');
  });

  it('when several callers ask for the same id at once, then they share one read', async () => {
    const cache = new ShortCache<string>(5_000, 100, now);
    const loader = counting(() => 'agent');
    expect(await Promise.all([cache.get('u1', loader.load), cache.get('u1', loader.load), cache.get('u1', loader.load)])).toEqual(['agent', 'agent', 'agent']);
    expect(loader.reads).toBe(1);
  });

  it('when a read fails, then the failure is not kept and the next get reads again', async () => {
    const cache = new ShortCache<string>(5_000, 100, now);
    await expect(cache.get('u1', async () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(await cache.get('u1', async () => 'agent')).toBe('agent');
  });

  it('when more ids than the limit are kept, then the oldest are dropped and the size stays at the limit', async () => {
    const cache = new ShortCache<string>(5_000, 3, now);
    for (const id of ['a', 'b', 'c', 'd']) await cache.get(id, async () => id);
    expect(cache.size).toBe(3);
    const loader = counting(() => 'again');
    expect(await cache.get('a', loader.load)).toBe('again');
    expect(await cache.get('d', loader.load)).toBe('d');
    expect(loader.reads).toBe(1);
  });

  it('when the time is 0, then every get reads', async () => {
    const cache = new ShortCache<string>(0, 100, now);
    const loader = counting(() => 'agent');
    await cache.get('u1', loader.load);
    await cache.get('u1', loader.load);
    expect(loader.reads).toBe(2);
    expect(cache.size).toBe(0);
  });
});
