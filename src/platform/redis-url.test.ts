import { isSentinelUrl, parseSentinelUrl, redisUrlProblem, sentinelRedisOptions } from './redis-url';

describe('Redis URL forms', () => {
  it('when a Sentinel URL lists hosts and a master, then it gives every Sentinel, the master name and no db', () => {
    expect(parseSentinelUrl('redis+sentinel://s1.internal:26379,s2.internal:26380,10.0.0.3/mymaster')).toEqual({
      sentinels: [
        { host: 's1.internal', port: 26379 },
        { host: 's2.internal', port: 26380 },
        { host: '10.0.0.3', port: 26379 },
      ],
      name: 'mymaster',
      tls: false,
    });
  });

  it('when the URL has a password, a db and Sentinel credentials, then the password and db are the master\'s and the query options the Sentinels\'', () => {
    expect(parseSentinelUrl('redis+sentinel://:p%40ss@s1:26379/mymaster/2?sentinel_password=sp&sentinel_username=sentinel-user')).toEqual({
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'mymaster',
      db: 2,
      password: 'p@ss',
      sentinelUsername: 'sentinel-user',
      sentinelPassword: 'sp',
      tls: false,
    });
    expect(parseSentinelUrl('redis+sentinel://app:secret@s1/m?sentinelPassword=sp')).toMatchObject({ username: 'app', password: 'secret', sentinelPassword: 'sp' });
  });

  it('when the scheme is rediss+sentinel, then TLS is on, and an IPv6 Sentinel is read from brackets', () => {
    expect(parseSentinelUrl('rediss+sentinel://[::1]:26379,[fd00::2]/cache/0')).toEqual({
      sentinels: [
        { host: '::1', port: 26379 },
        { host: 'fd00::2', port: 26379 },
      ],
      name: 'cache',
      db: 0,
      tls: true,
    });
  });

  it('when a URL is a plain redis:// or rediss:// one, then it is not a Sentinel URL and is accepted as before', () => {
    expect(isSentinelUrl('redis://127.0.0.1:6379')).toBe(false);
    expect(isSentinelUrl('REDIS+SENTINEL://s1/m')).toBe(true);
    expect(redisUrlProblem('redis://127.0.0.1:6379')).toBeUndefined();
    expect(redisUrlProblem('rediss://:pw@cache.example.com:6380/1')).toBeUndefined();
    expect(redisUrlProblem('redis+sentinel://s1:26379,s2:26379/mymaster')).toBeUndefined();
  });

  it.each([
    ['redis+sentinel://s1:26379', 'names no master'],
    ['redis+sentinel://s1:26379/', 'names no master'],
    ['redis+sentinel:///mymaster', 'names no Sentinel'],
    ['redis+sentinel://s1:26379,/mymaster', 'malformed Sentinel address ""'],
    ['redis+sentinel://s1:port/mymaster', 'malformed Sentinel address "s1:port"'],
    ['redis+sentinel://s1:70000/mymaster', 'invalid Sentinel port in "s1:70000"'],
    ['redis+sentinel://s1/mymaster/one', 'path other than /masterName[/db]'],
    ['redis+sentinel://s1/mymaster/0/extra', 'path other than /masterName[/db]'],
    ['redis+sentinel://s1/mymaster?password=x', 'unknown option "password"'],
    ['redis+sentinel://:%E0%A4%A@s1/mymaster', 'malformed password'],
  ])('when the Sentinel URL is %s, then the problem says it %s', (url, problem) => {
    expect(redisUrlProblem(url)).toContain(problem);
    expect(redisUrlProblem(url)).toMatch(/^is a Sentinel URL that /);
  });

  it('when the URL has another scheme, then the problem names every accepted form', () => {
    const problem = redisUrlProblem('http://nope');
    expect(problem).toContain('must be a redis:// or rediss:// URL');
    expect(problem).toContain('redis+sentinel://');
  });

  it('when a Sentinel URL is turned into ioredis options, then credentials go to the master or the Sentinels as named, and rediss+sentinel turns TLS on for both', () => {
    expect(sentinelRedisOptions(parseSentinelUrl('redis+sentinel://:pw@s1:26379,s2:26380/mymaster/3?sentinel_password=sp'))).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
      db: 3,
      password: 'pw',
      sentinelPassword: 'sp',
    });
    expect(sentinelRedisOptions(parseSentinelUrl('rediss+sentinel://s1/mymaster'))).toEqual({
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'mymaster',
      tls: {},
      sentinelTLS: {},
      enableTLSForSentinelMode: true,
    });
  });
});
