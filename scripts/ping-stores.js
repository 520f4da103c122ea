#!/usr/bin/env node
// Does a store answer? Used by services.sh to decide between "use it" and "start one".
//   node scripts/ping-stores.js mongo mongodb://127.0.0.1:27017/switchboard
//   node scripts/ping-stores.js redis redis://127.0.0.1:6379
//   node scripts/ping-stores.js redis redis+sentinel://127.0.0.1:26379/mymaster   (the master Sentinel names)
// Exit 0 if it answered a ping within ~2 s, 1 otherwise, 2 on bad usage.
// Plain CommonJS so it runs before `npm run build`; needs node_modules (setup installs them first).
'use strict';

const TIMEOUT_MS = 2000;
const [kind, uri] = process.argv.slice(2);

async function pingMongo(url) {
  const { MongoClient } = require('mongodb');
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: TIMEOUT_MS,
    connectTimeoutMS: TIMEOUT_MS,
  });
  // connect() already selects a server (hello handshake, plus auth if the URI has credentials).
  // No extra command: it would open a session, and closing it sends endSessions, which FerretDB
  // does not implement and logs as a multi-line warning on every check.
  try {
    await client.connect();
  } finally {
    await client.close().catch(() => {});
  }
}

// A redis+sentinel:// URL as ioredis Sentinel options: asks the Sentinels for the master and pings
// that. The same grammar as src/platform/redis-url.ts (which the app uses, and validates strictly);
// kept in plain JS here because this runs before the TypeScript is built.
function sentinelOptions(url) {
  const match = /^(rediss?)\+sentinel:\/\/(?:([^@/?]*)@)?([^/?]+)\/([^/?]+)(?:\/(\d+))?\/?(?:\?(.*))?$/i.exec(url);
  if (!match) throw new Error('malformed Sentinel URL; expected redis+sentinel://[:password@]host:26379[,host2:26379]/masterName[/db]');
  const [, scheme, userinfo, hosts, name, db, query] = match;
  const sentinels = hosts.split(',').map((entry) => {
    const hostPort = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(entry);
    if (!hostPort) throw new Error(`malformed Sentinel address ${entry}`);
    return { host: hostPort[1] || hostPort[2], port: Number(hostPort[3] || 26379) };
  });
  const options = { sentinels, name: decodeURIComponent(name), sentinelRetryStrategy: () => null };
  if (db) options.db = Number(db);
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    if (colon === -1) options.password = decodeURIComponent(userinfo);
    else {
      if (colon > 0) options.username = decodeURIComponent(userinfo.slice(0, colon));
      if (colon < userinfo.length - 1) options.password = decodeURIComponent(userinfo.slice(colon + 1));
    }
  }
  const params = new URLSearchParams(query || '');
  const sentinelUsername = params.get('sentinel_username') || params.get('sentinelUsername');
  const sentinelPassword = params.get('sentinel_password') || params.get('sentinelPassword');
  if (sentinelUsername) options.sentinelUsername = sentinelUsername;
  if (sentinelPassword) options.sentinelPassword = sentinelPassword;
  if (scheme.toLowerCase() === 'rediss') Object.assign(options, { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true });
  return options;
}

async function pingRedis(url) {
  const { Redis } = require('ioredis');
  // No retries and no offline queue: we want one quick yes/no, not a client that waits for the server.
  const quick = {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  };
  const client = /^rediss?\+sentinel:\/\//i.test(url) ? new Redis({ ...sentinelOptions(url), ...quick }) : new Redis(url, quick);
  client.on('error', () => {}); // reported through the rejected promise below
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

const pingers = { mongo: pingMongo, redis: pingRedis };

if (!pingers[kind] || !uri) {
  console.error('usage: node scripts/ping-stores.js mongo|redis <uri>');
  process.exit(2);
}

// A hard ceiling as well, because a half-open socket can outlive the client timeouts.
setTimeout(() => process.exit(1), TIMEOUT_MS + 1000).unref();
pingers[kind](uri).then(
  () => process.exit(0),
  (err) => {
    if (process.env.PING_VERBOSE) console.error(`${kind} ${uri}: ${err.message}`);
    process.exit(1);
  },
);
