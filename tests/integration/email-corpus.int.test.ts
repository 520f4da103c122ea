import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { request } from '../support/test-app';
import { sendEmail, sendRawEmail, startEmailTestApp, type EmailTestApp } from '../support/email';
import type { Entry, Interaction } from '../../src/interactions';

const fixturesDir = path.join(__dirname, '..', 'fixtures', 'emails');

interface StoredAttachment {
  name?: string;
  contentType: string;
  size: number;
  sha256?: string;
  path?: string;
  contentId?: string;
  flags?: string[];
}

/** What each hostile email must leave behind, beyond the checks every fixture gets. */
const expectations: Record<string, (recorded: { entry: Entry; interaction: Interaction; env: EmailTestApp }) => Promise<void> | void> = {
  'bad-charset.eml': ({ entry }) => expect(entry.text).toContain('broken bytes'),
  'broken-boundary.eml': ({ entry }) => expect(entry.text).toContain('first part'),
  'huge-header.eml': ({ entry }) => expect(entry.text).toBe('body after a huge header'),
  'script-html.eml': ({ entry }) => {
    const html = String(entry.data?.html);
    expect(html).toContain('Hello');
    for (const forbidden of ['onload', 'onclick', 'onmouseover', '<iframe', '<form', '<svg', '<object', '<style', 'expression', 'evil.example', 'data:text/html', 'steal()']) {
      expect(html).not.toContain(forbidden);
    }
  },
  'rfc2231-filename.eml': ({ entry, interaction }) => {
    expect(interaction.subject).toBe('报价单');
    const attachments = entry.data?.attachments as StoredAttachment[];
    expect(attachments.map((attachment) => attachment.name)).toEqual(['报价单.pdf', '很长的文件名.txt', 'passwd', 'Grüße.txt']);
    for (const attachment of attachments) expect(attachment.path).toMatch(/^files\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    expect(entry.attachments?.map((attachment) => attachment.name)).toEqual(['报价单.pdf', '很长的文件名.txt', 'passwd', 'Grüße.txt']);
  },
  'display-name-commas.eml': async ({ interaction, env }) => {
    const customer = await env.app.services.customers.getCustomer(interaction.customerId);
    expect(customer).toMatchObject({ name: 'Wei, Li "The Boss" (Sales)', emails: ['li.wei.commas@fixtures.example'] });
  },
  'missing-from.eml': async ({ entry, interaction, env }) => {
    expect(entry.flags).toEqual(expect.arrayContaining(['missing_from', 'sender_from_envelope']));
    expect((await env.app.services.customers.getCustomer(interaction.customerId)).emails).toEqual(['envelope.sender@fixtures.example']);
  },
  'garbage-from.eml': async ({ entry, interaction, env }) => {
    expect(entry.flags).toEqual(expect.arrayContaining(['invalid_from', 'unknown_sender']));
    expect(interaction.flags).toContain('email_unknown_sender');
    expect((await env.app.services.customers.getCustomer(interaction.customerId)).emails).toEqual(['unknown-sender@unknown.invalid']);
  },
  'garbage-date.eml': ({ entry }) => {
    expect(entry.flags).toContain('invalid_date');
    expect(entry.data?.date).toBeUndefined();
  },
  'eight-bit-headers.eml': async ({ interaction, env }) => {
    expect(interaction.subject).toContain('发动机故障');
    expect((await env.app.services.customers.getCustomer(interaction.customerId)).name).toBe('Müller Jürgen');
  },
  'nested-rfc822.eml': ({ entry }) => {
    expect(entry.text).toContain('See the forwarded mail.');
    expect((entry.data?.attachments as StoredAttachment[]).map((attachment) => attachment.contentType)).toContain('message/rfc822');
  },
  'zero-byte-attachment.eml': ({ entry }) => {
    expect(entry.flags).toContain('empty_attachment');
    expect(entry.data?.attachments).toEqual([expect.objectContaining({ name: 'empty.dat', size: 0, flags: ['empty'] })]);
  },
  'base64-garbage.eml': ({ entry }) => expect(entry.data?.raw).toBeDefined(),
  'header-injection.eml': ({ entry, interaction }) => {
    expect(interaction.subject).not.toMatch(/[\r\n]/);
    expect(String(entry.data?.subject)).not.toMatch(/[\r\n]/);
  },
  'remote-images.eml': ({ entry }) => {
    const html = String(entry.data?.html);
    expect(entry.flags).toContain('remote_content_blocked');
    expect(entry.data?.remoteImagesBlocked).toBe(2);
    expect(html).toContain('src="cid:logo@fixtures.example"');
    expect(html).not.toMatch(/\s(src|href|background)="(https?:)?\/\//);
    expect(html).not.toContain('url(');
    expect(html).not.toContain('<link');
    expect(entry.data?.attachments).toEqual([expect.objectContaining({ name: 'logo.png', contentId: 'logo@fixtures.example', inline: true })]);
  },
  'utf7-charset.eml': ({ entry }) => expect(String(entry.data?.html)).toContain('Hi'),
  'nul-bytes.eml': ({ entry, interaction }) => {
    expect(entry.flags).toContain('nul_bytes');
    expect(entry.text).toBe('body with  nul  bytes');
    expect(interaction.subject).toBe('nul in subject');
  },
  'no-message-id.eml': ({ entry }) => {
    expect(entry.flags).toContain('missing_message_id');
    expect(entry.externalId).toMatch(/^email:sha256:[0-9a-f]{64}$/);
  },
  'delivery-report.eml': ({ entry }) => expect(entry.text).toContain('could not be delivered'),
  'unknown-charset-html.eml': ({ entry }) => expect(String(entry.data?.html)).not.toContain('vbscript'),
  'headers-only.eml': ({ entry }) => expect(entry.text).toBe(''),
  'deep-nesting.eml': ({ entry }) => expect(entry.data?.raw).toBeDefined(),
  'message-id-garbage.eml': ({ entry }) => {
    expect(entry.flags).toContain('invalid_message_id');
    expect(entry.externalId).toMatch(/^email:sha256:/);
  },
};

describe('a corpus of malformed and hostile emails', () => {
  let env: EmailTestApp;
  const recorded = new Map<string, { entryId: string; response: string }>();

  beforeAll(async () => {
    env = await startEmailTestApp({ EMAIL_ACKNOWLEDGE: 'true', EMAIL_MAX_BYTES: 300_000 });
    const files = (await fs.readdir(fixturesDir)).filter((file) => file.endsWith('.eml')).sort();
    // Each is its own SMTP transaction, as from a real server; a few connections at a time.
    const send = async (file: string) => {
      const raw = await fs.readFile(path.join(fixturesDir, file));
      const mailFrom = file === 'missing-from.eml' ? 'envelope.sender@fixtures.example' : file === 'garbage-from.eml' ? '' : 'relay@fixtures.example';
      const outcome = await sendRawEmail(env.smtpPort, raw, { from: mailFrom, to: [env.supportEmail] });
      if (!outcome.accepted) throw new Error(`${file} was refused: ${outcome.responseCode} ${outcome.response}`);
      recorded.set(file, { entryId: /Queued as ([0-9a-f]{24})/.exec(outcome.response)?.[1] ?? '', response: outcome.response });
    };
    for (let index = 0; index < files.length; index += 6) await Promise.all(files.slice(index, index + 6).map(send));
  });
  afterAll(() => env.destroy());

  async function findEntry(entryId: string): Promise<{ entry: Entry; interaction: Interaction }> {
    // Test-only scan; the app never looks entries up this way.
    for (const summary of await env.app.services.interactions.listInteractions({ channel: 'email', limit: 200 })) {
      const interaction = await env.app.services.interactions.getInteraction(summary.id);
      const entry = interaction.entries?.find((candidate) => candidate.id === entryId);
      if (entry) return { entry, interaction };
    }
    throw new Error(`entry ${entryId} not found`);
  }

  it('when the corpus is read, then it holds at least fifteen fixtures, each with an expectation', async () => {
    const files = (await fs.readdir(fixturesDir)).filter((file) => file.endsWith('.eml'));
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(files.sort()).toEqual(Object.keys(expectations).sort());
  });

  it.each(Object.keys(expectations).sort())('when %s arrives, then it is accepted, stored raw, sanitized and flagged as expected', async (file) => {
    const sent = recorded.get(file)!;
    expect(sent.response).toMatch(/^250 /);
    const { entry, interaction } = await findEntry(sent.entryId);
    expect(interaction.channel).toBe('email');

    const raw = entry.data?.raw as { path: string; size: number; sha256: string };
    const stored = await fs.readFile(path.join(env.attachmentsDir, raw.path));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(raw.sha256);
    expect(stored.length).toBe(raw.size);

    const html = entry.data?.html;
    if (html !== undefined) {
      expect(typeof html).toBe('string');
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/onerror/i);
      expect(html).not.toMatch(/javascript:/i);
    }
    expect(entry.text ?? '').not.toContain('\u0000');
    for (const attachment of (entry.data?.attachments as StoredAttachment[] | undefined) ?? []) {
      if (attachment.path) expect((await fs.stat(path.join(env.attachmentsDir, attachment.path))).size).toBe(attachment.size);
    }
    await expectations[file]({ entry, interaction, env });
  });

  it('when an email without Message-ID is delivered again, then it is recognised by its bytes', async () => {
    const raw = await fs.readFile(path.join(fixturesDir, 'no-message-id.eml'));
    const again = await sendRawEmail(env.smtpPort, raw, { from: 'relay@fixtures.example', to: [env.supportEmail] });
    expect(again).toMatchObject({ accepted: true });
    const { interaction } = await findEntry(recorded.get('no-message-id.eml')!.entryId);
    expect(interaction.entries?.filter((entry) => entry.direction === 'inbound')).toHaveLength(1);
  });

  it('when the corpus has been through, then the process still serves HTTP and mail, and robots got no acknowledgement', async () => {
    expect((await request(env.app, 'GET', '/healthz')).status).toBe(200);
    const outcome = await sendEmail(env.smtpPort, { from: 'after.corpus@fixtures.example', to: env.supportEmail, subject: 'still alive?', text: 'yes' });
    expect(outcome).toMatchObject({ accepted: true });
    await env.sink.waitFor((message) => message.envelope.rcptTo.includes('after.corpus@fixtures.example'));
    expect(env.sink.messages.some((message) => message.envelope.rcptTo.some((address) => /mailer-daemon|unknown\.invalid/i.test(address)))).toBe(false);
  });
});
