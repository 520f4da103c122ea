import { summarize } from '../src/interactions/timeline-summary';
import { mulberry32 } from '../scripts/prng';
import type { CustomerDocument, CustomerTier, IdentityDocument } from '../src/customers/customer.model';
import type {
  Channel,
  Direction,
  EntryDocument,
  InteractionDocument,
  InteractionStatus,
  TimelineDocument,
} from '../src/interactions/interaction.model';

/**
 * The benchmark dataset: deterministic, so the benchmark can name any customer's id, phone and
 * interaction count from its index alone, without scanning (a scan is what FerretDB does for any
 * filter that is not `{_id}`). Bump the version whenever the generated data changes shape, so an
 * old dataset is reloaded instead of measured.
 */
// 2: timeline items carry their interaction's summary.
export const datasetVersion = 2;

/** Customers come in blocks of 100: one heavy customer (a full first page and more) and 99 others. */
export const blockSize = 100;
const heavyInteractions = 40;
// 59 customers with 1 interaction, 19 with 2, 21 with 3: 160 interactions, so a block holds 200.
const lightPattern: readonly number[] = [...Array<number>(59).fill(1), ...Array<number>(19).fill(2), ...Array<number>(21).fill(3)];
const interactionsPerBlock = heavyInteractions + lightPattern.reduce((sum, count) => sum + count, 0);
/** Entries per interaction average exactly 5 (pairs get 5+d and 5-d). */
const meanEntries = 5;

export interface DatasetSize {
  customers: number;
  interactions: number;
  entries: number;
}

export function datasetSize(customers: number): DatasetSize {
  if (!Number.isInteger(customers) || customers < blockSize || customers % blockSize !== 0) {
    throw new Error(`--customers must be a positive multiple of ${blockSize}, got ${customers}`);
  }
  const interactions = (customers / blockSize) * interactionsPerBlock;
  return { customers, interactions, entries: interactions * meanEntries };
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: every record draws from its own seeded stream, so it can be rebuilt
// alone and the dataset is identical on every machine.

const datasetSeed = 0x5b1d;

function hash32(...parts: number[]): number {
  let h = 0x811c9dc5 ^ datasetSeed;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

/** The benchmark's seeded generator (shared with the demo seed). */
export const randomStream = mulberry32;

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const between = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const hex = (random: () => number, chars: number) =>
  Array.from({ length: Math.ceil(chars / 8) }, () => Math.floor(random() * 0x100000000).toString(16).padStart(8, '0')).join('').slice(0, chars);

// Ids look like ObjectId hex (the API validates 24 hex characters) and encode their index.
const objectIdLike = (prefix: string, index: number) => prefix + index.toString(16).padStart(24 - prefix.length, '0');
export const customerId = (index: number) => objectIdLike('be0c', index);
export const interactionId = (index: number) => objectIdLike('be01', index);
const entryId = (interactionIndex: number, position: number) => objectIdLike('be0e', interactionIndex * 16 + position);
const agentId = (index: number) => objectIdLike('be0a', index);

// ---------------------------------------------------------------------------------------------
// Who has which interactions

interface BlockLayout {
  /** Interaction count of each customer in the block, by position in the block. */
  counts: number[];
  /** Index of each customer's first interaction, relative to the block's first interaction. */
  offsets: number[];
}

const layoutCache = new Map<number, BlockLayout>();

function blockLayout(block: number): BlockLayout {
  const cached = layoutCache.get(block);
  if (cached) return cached;
  const random = randomStream(hash32(1, block));
  const light = [...lightPattern];
  for (let i = light.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [light[i], light[j]] = [light[j], light[i]];
  }
  const counts = [heavyInteractions, ...light];
  const offsets: number[] = [];
  let next = 0;
  for (const count of counts) {
    offsets.push(next);
    next += count;
  }
  const layout = { counts, offsets };
  if (layoutCache.size > 10_000) layoutCache.clear();
  layoutCache.set(block, layout);
  return layout;
}

/** Every 100th customer (index 0, 100, 200…) has 40 interactions: the timeline's full-page case. */
export const isHeavy = (index: number) => index % blockSize === 0;

/** The customer's interactions as a range of global interaction indexes, oldest first. */
export function interactionRange(index: number): { first: number; count: number } {
  const block = Math.floor(index / blockSize);
  const layout = blockLayout(block);
  const position = index % blockSize;
  return { first: block * interactionsPerBlock + layout.offsets[position], count: layout.counts[position] };
}

function entryCount(interactionIndex: number): number {
  const spread = hash32(2, interactionIndex >>> 1) % meanEntries; // 0..4
  return interactionIndex % 2 === 0 ? meanEntries + spread : meanEntries - spread;
}

// ---------------------------------------------------------------------------------------------
// Identifiers

// Chinese mobile prefixes used for existing customers. 166 is kept free for "new caller" numbers
// and 199 for second phones, so the three sets never collide.
const primaryPrefixes = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '155', '157', '158', '159', '170', '176', '177', '180', '181', '182', '185', '186', '187', '188', '189', '198'];
export const newCallerPrefix = '166';
const secondPhonePrefix = '199';

// a·i + b mod 10^8 is a bijection when gcd(a, 10^8) = 1, so subscriber numbers never repeat.
const subscriber = (index: number, offset: number) => String((index * 7919 + offset) % 100_000_000).padStart(8, '0');

/** The customer's main mobile number in national form, e.g. `13812345678`. */
export function nationalPhone(index: number): string {
  return primaryPrefixes[index % primaryPrefixes.length] + subscriber(index, 1_234_567);
}

export const e164Phone = (index: number) => `+86${nationalPhone(index)}`;

/** The same number the way people and systems actually write it, so lookups pay for normalization. */
export function phoneSpelling(index: number, variant: number): string {
  const national = nationalPhone(index);
  const spaced = `${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`;
  switch (variant % 4) {
    case 0:
      return `+86${national}`;
    case 1:
      return spaced;
    case 2:
      return `${national.slice(0, 3)}-${national.slice(3, 7)}-${national.slice(7)}`;
    default:
      return `+86 ${spaced}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Content

const familyNames = ['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu', 'Sun', 'Ma', 'Zhu', 'Hu', 'Guo', 'He', 'Lin', 'Gao', 'Luo'];
const givenNames = ['Wei', 'Fang', 'Na', 'Min', 'Jing', 'Lei', 'Qiang', 'Jun', 'Yan', 'Jie', 'Tao', 'Ming', 'Chao', 'Xiu Ying', 'Hui', 'Yong', 'Li', 'Ping', 'Gang', 'Xia'];
const carModels = ['Tiggo 4', 'Tiggo 7 Pro', 'Tiggo 8 Pro', 'Arrizo 5', 'Arrizo 8', 'eQ1', 'Omoda 5', 'Exeed TXL'];
const dealers = ['Wuhu Central', 'Hefei North', 'Nanjing Jiangning', 'Shanghai Minhang', 'Hangzhou Xihu', 'Suzhou SIP', 'Wuhan Hankou', 'Chengdu Gaoxin'];
const queues = ['service', 'sales', 'parts', 'warranty'];
const smsLines = [
  'Hello, my car shows an engine warning light since this morning. What should I do?',
  'Can I move my maintenance appointment to Saturday afternoon?',
  '您好，我的车今天早上仪表盘亮了故障灯，请问需要去4S店检查吗？',
  'Thanks, the dealer called me back. All good now.',
  'Your appointment at the service center is confirmed for 10:30. Reply STOP to opt out.',
  'We received your request (ref 48213). An advisor will contact you within 2 hours.',
  '请问保修期内更换刹车片需要付费吗？',
  'The part has arrived at your dealer. Please bring your vehicle registration.',
  'Is the recall for the rear seat belt relevant for my VIN?',
  'How did we do today? Reply 1-5 to rate your service experience.',
];
const emailParagraphs = [
  'Dear customer service, I bought my car eleven months ago at the dealer in our city and since last week there is a rattling noise from the dashboard when driving over 60 km/h.',
  'I have attached the invoice and a photo of the odometer. Please tell me whether this is covered by the warranty and which dealer can look at it before the end of the month.',
  'Thank you for contacting us. We have forwarded your case to the warranty department, who will check the documents and come back to you within two working days.',
  '您好！我于去年三月在贵公司经销商处购买了车辆，最近空调制冷效果明显变差，想了解一下是否在保修范围内，以及最近的服务网点。',
  'Following our phone call, please find below the summary of the agreed repair: replacement of the front left window regulator, free of charge under warranty, estimated duration two hours.',
  'We are sorry for the inconvenience. As a gesture of goodwill we will cover the cost of the rental car for the duration of the repair. Please keep the receipt.',
  'Kind regards, Customer Service Center. This message was sent from an unmonitored address; to answer, reply to this email so it reaches your case.',
];
const notes = [
  'Customer reports warning light; advised to visit dealer, filed task to service department.',
  'Called back about appointment change, moved to Saturday 14:00.',
  'Warranty question on brake pads; explained wear parts are not covered.',
  'Customer upset about waiting time at the dealer; escalated to dealer manager.',
  'Recall check done by VIN: not affected. Customer informed.',
  '客户反映空调问题，已转售后部门跟进。',
];

const vin = (random: () => number) => `LVV${hex(random, 14).toUpperCase().replace(/[IOQ]/g, '7')}`;

/** Deterministic creation time of a customer: up to two years before the dataset's "now". */
const datasetNow = Date.UTC(2025, 5, 1);
const dayMs = 86_400_000;

function buildCustomer(index: number): { customer: CustomerDocument; identities: IdentityDocument[] } {
  const random = randomStream(hash32(3, index));
  const id = customerId(index);
  const family = pick(random, familyNames);
  const given = pick(random, givenNames);
  const createdAt = new Date(datasetNow - between(random, 30, 730) * dayMs - between(random, 0, dayMs));
  const phones = [{ value: e164Phone(index), kind: 'e164' as const }];
  if (random() < 0.1) phones.push({ value: `+86${secondPhonePrefix}${subscriber(index, 7_654_321)}`, kind: 'e164' });
  // About half the customers have an email; the index in it keeps addresses unique.
  const emails = index % 2 === 0 ? [`${given.toLowerCase().replace(' ', '')}.${family.toLowerCase()}.${index}@mail.example.cn`] : [];
  const roll = random();
  const tier: CustomerTier = roll < 0.05 ? 'vip' : roll < 0.2 ? 'gold' : 'standard';
  const customer: CustomerDocument = {
    _id: id,
    name: `${given} ${family}`,
    phones,
    emails,
    tier,
    tags: random() < 0.3 ? ['car-owner', pick(random, ['fleet', 'new-buyer', 'repeat-buyer'])] : ['car-owner'],
    attributes: {
      vin: vin(random),
      model: pick(random, carModels),
      dealer: pick(random, dealers),
      purchasedOn: new Date(createdAt.getTime() - between(random, 0, 60) * dayMs).toISOString().slice(0, 10),
    },
    createdAt,
    updatedAt: createdAt,
  };
  const identities: IdentityDocument[] = [
    ...phones.map((phone) => ({ _id: `phone:${phone.value}`, customerId: id, createdAt })),
    ...emails.map((email) => ({ _id: `email:${email}`, customerId: id, createdAt })),
  ];
  return { customer, identities };
}

function buildEntries(
  random: () => number,
  interactionIndex: number,
  channel: Channel,
  direction: Direction,
  agent: string,
  start: number,
): EntryDocument[] {
  const count = entryCount(interactionIndex);
  const entries: EntryDocument[] = [];
  let at = start;
  const callSid = `CA${hex(random, 32)}`;
  for (let position = 0; position < count; position += 1) {
    const _id = entryId(interactionIndex, position);
    const when = new Date(at);
    at += between(random, 1, channel === 'email' ? 24 * 60 : 30) * 60_000;
    const inbound: Direction = (position % 2 === 0) === (direction === 'inbound') ? 'inbound' : 'outbound';
    if (channel === 'voice') {
      if (position === 0 || (position === count - 1 && count > 1) || (position === 1 && count > 2)) {
        const callStatus = position === 0 ? 'ringing' : position === count - 1 ? 'completed' : 'in-progress';
        entries.push({
          _id,
          kind: 'call_event',
          at: when,
          direction,
          externalId: `twilio-call:${callSid}:${callStatus}`,
          data: { callStatus, ...(callStatus === 'completed' ? { duration: between(random, 20, 900) } : {}) },
        });
      } else {
        entries.push({ _id, kind: 'note', at: when, direction: 'internal', text: pick(random, notes), authorId: agent });
      }
    } else if (channel === 'sms') {
      entries.push({
        _id,
        kind: 'message',
        at: when,
        direction: inbound,
        text: pick(random, smsLines),
        ...(inbound === 'outbound' ? { authorId: agent } : {}),
        externalId: `twilio-sms:SM${hex(random, 32)}`,
        data: { segments: between(random, 1, 2), status: inbound === 'inbound' ? 'received' : 'delivered' },
      });
    } else {
      const paragraphs = between(random, 1, 3);
      entries.push({
        _id,
        kind: 'message',
        at: when,
        direction: inbound,
        text: Array.from({ length: paragraphs }, () => pick(random, emailParagraphs)).join('\n\n'),
        ...(inbound === 'outbound' ? { authorId: agent } : {}),
        externalId: `email:<${hex(random, 16)}@mail.example.cn>`,
        data: { subject: 'Question about my vehicle', from: inbound === 'inbound' ? 'customer' : 'service' },
        ...(random() < 0.1 ? { attachments: [{ name: 'invoice.pdf', contentType: 'application/pdf', size: between(random, 40_000, 900_000) }] } : {}),
      });
    }
  }
  return entries;
}

function buildInteractions(index: number, createdAfter: Date): { interactions: InteractionDocument[]; timeline: TimelineDocument } {
  const { first, count } = interactionRange(index);
  const random = randomStream(hash32(4, index));
  const owner = customerId(index);
  // Contacts happen at sorted random moments between the customer's creation and "now".
  const span = datasetNow - createdAfter.getTime();
  const starts = Array.from({ length: count }, () => createdAfter.getTime() + Math.floor(random() * span * 0.98)).sort((a, b) => a - b);
  const interactions: InteractionDocument[] = [];
  for (let k = 0; k < count; k += 1) {
    const globalIndex = first + k;
    const roll = random();
    const channel: Channel = roll < 0.4 ? 'voice' : roll < 0.75 ? 'sms' : 'email';
    const direction: Direction = random() < 0.85 ? 'inbound' : 'outbound';
    const agent = agentId(between(random, 0, 199));
    const entries = buildEntries(random, globalIndex, channel, direction, agent, starts[k]);
    const createdAt = entries[0].at;
    const last = entries[entries.length - 1].at;
    const isLatest = k === count - 1;
    const status: InteractionStatus = isLatest && random() < 0.1 ? 'open' : random() < 0.03 ? 'abandoned' : 'closed';
    const ended = status !== 'open';
    interactions.push({
      _id: interactionId(globalIndex),
      customerId: owner,
      channel,
      direction,
      status,
      ...(channel === 'email' ? { subject: 'Question about my vehicle' } : {}),
      queue: pick(random, queues),
      agentId: agent,
      externalIds: entries.flatMap((entry) => (entry.externalId ? [entry.externalId] : [])),
      entries,
      entryCount: entries.length,
      flags: [],
      createdAt,
      ...(direction === 'inbound' ? { queuedAt: createdAt, offeredAt: new Date(createdAt.getTime() + 15_000), answeredAt: new Date(createdAt.getTime() + 30_000) } : {}),
      ...(ended ? { endedAt: last } : {}),
      lastActivityAt: last,
      updatedAt: last,
    });
  }
  const timeline: TimelineDocument = {
    _id: owner,
    items: interactions.map((interaction) => ({ interactionId: interaction._id, at: interaction.createdAt, channel: interaction.channel, summary: summarize(interaction) })),
    // The head's ref count, as the app keeps it (a dataset loaded without it still works: the first new contact sets it).
    count: interactions.length,
  };
  return { interactions, timeline };
}

export interface Batch {
  customers: CustomerDocument[];
  identities: IdentityDocument[];
  interactions: InteractionDocument[];
  timelines: TimelineDocument[];
  entries: number;
}

/** Builds the documents of customers [from, to) and everything they own. */
export function buildBatch(from: number, to: number): Batch {
  const batch: Batch = { customers: [], identities: [], interactions: [], timelines: [], entries: 0 };
  for (let index = from; index < to; index += 1) {
    const { customer, identities } = buildCustomer(index);
    const { interactions, timeline } = buildInteractions(index, customer.createdAt);
    batch.customers.push(customer);
    batch.identities.push(...identities);
    batch.interactions.push(...interactions);
    batch.timelines.push(timeline);
    for (const interaction of interactions) batch.entries += interaction.entryCount;
  }
  return batch;
}
