import { redisSettingsWarnings } from './redis-settings';

describe('redisSettingsWarnings', () => {
  it('when the policy is noeviction and AOF is on, then there is nothing to warn about', () => {
    expect(redisSettingsWarnings({ maxmemoryPolicy: 'noeviction', appendonly: 'yes', save: '' })).toEqual([]);
  });

  it('when the policy is noeviction and only RDB snapshots are on, then there is nothing to warn about', () => {
    expect(redisSettingsWarnings({ maxmemoryPolicy: 'noeviction', appendonly: 'no', save: '3600 1 300 100 60 10000' })).toEqual([]);
  });

  it('when the policy evicts keys, then one warning names the policy, what it loses and the fix', () => {
    const warnings = redisSettingsWarnings({ maxmemoryPolicy: 'allkeys-lru', appendonly: 'yes', save: '' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.setting).toBe('maxmemory-policy');
    expect(warnings[0]!.message).toContain('allkeys-lru');
    expect(warnings[0]!.message).toContain('BullMQ');
    expect(warnings[0]!.message).toContain('maxmemory-policy noeviction');
  });

  it('when neither AOF nor RDB snapshots are on, then one warning says a restart empties the queues', () => {
    const warnings = redisSettingsWarnings({ maxmemoryPolicy: 'noeviction', appendonly: 'no', save: '' });
    expect(warnings.map((warning) => warning.setting)).toEqual(['persistence']);
    expect(warnings[0]!.message).toContain('appendonly yes');
  });

  it('when the save rules are only blanks, then they count as no snapshots', () => {
    expect(redisSettingsWarnings({ maxmemoryPolicy: 'noeviction', appendonly: 'no', save: ' ' }).map((warning) => warning.setting)).toEqual(['persistence']);
  });

  it('when both are wrong, then both are warned about', () => {
    const warnings = redisSettingsWarnings({ maxmemoryPolicy: 'volatile-lru', appendonly: 'no', save: '' });
    expect(warnings.map((warning) => warning.setting)).toEqual(['maxmemory-policy', 'persistence']);
  });
});
