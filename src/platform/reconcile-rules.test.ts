import { addRun, Coalescer, emptyStats, parseRunId, resetKind } from './reconcile-rules';

describe('resetKind', () => {
  const known = { generation: 'g1', runId: 'r1' };

  it('when the generation key is gone, then Redis was emptied', () => {
    expect(resetKind(known, { generation: null, runId: 'r1' })).toBe('generation key vanished');
  });

  it('when the generation holds another value, then another node saw a reset first', () => {
    expect(resetKind(known, { generation: 'g2', runId: 'r1' })).toBe('generation changed');
  });

  it('when the run id changed with the generation kept, then Redis restarted (from its AOF)', () => {
    expect(resetKind(known, { generation: 'g1', runId: 'r2' })).toBe('run_id changed');
  });

  it('when generation and run id are the ones known, then nothing happened', () => {
    expect(resetKind(known, { generation: 'g1', runId: 'r1' })).toBeUndefined();
  });

  it('when a run id is unknown on either side, then the run id decides nothing', () => {
    expect(resetKind({ generation: 'g1', runId: undefined }, { generation: 'g1', runId: 'r2' })).toBeUndefined();
    expect(resetKind(known, { generation: 'g1', runId: undefined })).toBeUndefined();
  });
});

describe('parseRunId', () => {
  it('when INFO server has a run_id line (CRLF), then that id is read', () => {
    expect(parseRunId('# Server\r\nredis_version:7.0.15\r\nrun_id:4f1c0a9e2b\r\ntcp_port:6379\r\n')).toBe('4f1c0a9e2b');
  });

  it('when there is none, then undefined', () => {
    expect(parseRunId('# Server\r\nredis_version:7.0.15\r\n')).toBeUndefined();
  });
});

describe('addRun', () => {
  it('when runs are added, then totals accumulate per repair, failures are counted apart and the last run is kept', () => {
    const startedAt = new Date('2026-12-07T10:00:00Z');
    const first = addRun(emptyStats(), { trigger: 'start', startedAt, durationMs: 12, outcomes: [{ name: 'a', repaired: 3 }, { name: 'b', repaired: 0 }] });
    const second = addRun(first, { trigger: 'interval', startedAt, durationMs: 5, outcomes: [{ name: 'a', repaired: 2 }, { name: 'b', error: 'boom' }] });
    expect(second).toMatchObject({ runs: 2, repaired: { a: 5, b: 0 }, failures: { b: 1 }, last: { trigger: 'interval', result: 'failed', durationMs: 5 } });
    expect(first).toMatchObject({ runs: 1, repaired: { a: 3, b: 0 }, failures: {}, last: { result: 'ok' } });
  });
});

describe('Coalescer', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((done) => (resolve = done));
    return { promise, resolve };
  };

  it('when requests arrive while a run is in flight, then they share one pending run that starts after it', async () => {
    const gates = [deferred(), deferred()];
    const runs: string[][] = [];
    const coalescer = new Coalescer(async (reasons) => {
      runs.push(reasons);
      await gates[runs.length - 1].promise;
      return runs.length;
    });
    const first = coalescer.request('start');
    const second = coalescer.request('reset');
    const third = coalescer.request('interval');
    expect(runs).toEqual([['start']]);
    gates[0].resolve();
    await expect(first).resolves.toBe(1);
    gates[1].resolve();
    await expect(second).resolves.toBe(2);
    await expect(third).resolves.toBe(2);
    expect(runs).toEqual([['start'], ['reset', 'interval']]);
  });

  it('when a run fails, then its caller sees the error and the next request runs again', async () => {
    let calls = 0;
    const coalescer = new Coalescer(async () => {
      calls += 1;
      if (calls === 1) throw new Error('redis down');
      return calls;
    });
    await expect(coalescer.request('a')).rejects.toThrow('redis down');
    await expect(coalescer.request('b')).resolves.toBe(2);
    await coalescer.idle();
  });
});
