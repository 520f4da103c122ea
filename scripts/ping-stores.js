#!/usr/bin/env node
// Does a store answer? Used by services.sh to decide between "use it" and "start one".
//   node scripts/ping-stores.js mongo mongodb://127.0.0.1:27017/switchboard
//   node scripts/ping-stores.js redis redis://127.0.0.1:6379
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

async function pingRedis(url) {
  const { Redis } = require('ioredis');
  // No retries and no offline queue: we want one quick yes/no, not a client that waits for the server.
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
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
