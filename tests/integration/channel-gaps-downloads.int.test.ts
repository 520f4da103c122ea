import { randomBytes } from 'node:crypto';
import { contentDisposition } from '../../src/platform/http/download';
import { sendEmail, startEmailTestApp, type EmailTestApp } from '../support/email';
import { createUserAndLogin, type TestUser } from '../support/test-app';

describe('downloading a file a customer sent with an email', () => {
  let env: EmailTestApp;
  let agent: TestUser;
  let supervisor: TestUser;
  let department: TestUser;

  beforeAll(async () => {
    env = await startEmailTestApp();
    agent = await createUserAndLogin(env.app, 'agent');
    supervisor = await createUserAndLogin(env.app, 'supervisor');
    const parts = await env.app.services.departments.create({ code: 'parts', name: 'Parts', timezone: 'Asia/Shanghai' });
    department = await createUserAndLogin(env.app, 'department', { departmentId: parts.id });
  });
  afterAll(() => env.destroy());

  const get = (path: string, token: string) => fetch(`${env.app.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  /** Sends an email with one attachment; answers the download path of attachment `index` of its entry. */
  async function emailWithAttachment(filename: string, content: Buffer, contentType: string): Promise<(index: number) => string> {
    const from = `customer.${randomBytes(4).toString('hex')}@example.net`;
    const outcome = await sendEmail(env.smtpPort, { from, to: env.supportEmail, subject: 'Damage report', text: 'Report attached', attachments: [{ filename, content, contentType }] });
    expect(outcome.accepted).toBe(true);
    const [interaction] = await env.emailInteractions(from);
    const entry = interaction.entries![0];
    return (index) => `/api/interactions/${interaction.id}/entries/${entry.id}/attachments/${index}`;
  }

  it('when an agent downloads an email attachment, then the same bytes come back as a download with its type and exact name', async () => {
    const content = randomBytes(3_000);
    const filename = 'Schadensbericht Übersicht – 2026.pdf';
    const pathOf = await emailWithAttachment(filename, content, 'application/pdf');

    const response = await get(pathOf(0), agent.token);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(content);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="Schadensbericht _bersicht _ 2026.pdf"; filename*=UTF-8''${encodeURIComponent(filename)}`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect((await get(pathOf(0), supervisor.token)).status).toBe(200);
  });

  it('when a customer sends HTML, then it is still served as a download, never rendered', async () => {
    const pathOf = await emailWithAttachment('invoice.html', Buffer.from('<script>alert(1)</script>'), 'text/html');
    const response = await get(pathOf(0), agent.token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('when a department user asks for the attachment, then 403', async () => {
    const pathOf = await emailWithAttachment('photo.jpg', randomBytes(500), 'image/jpeg');
    const response = await get(pathOf(0), department.token);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('when the entry has no attachment at that position, or the entry does not exist, then 404 with a JSON error', async () => {
    const pathOf = await emailWithAttachment('photo.jpg', randomBytes(500), 'image/jpeg');
    const missing = await get(pathOf(1), agent.token);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    const otherEntry = pathOf(0).replace(/entries\/[0-9a-f]{24}/, `entries/${'0'.repeat(24)}`);
    expect((await get(otherEntry, agent.token)).status).toBe(404);
    const badIndex = await get(pathOf(0).replace(/\/0$/, '/first'), agent.token);
    expect(badIndex.status).toBe(400);
  });

  it('when a name is made into Content-Disposition, then it has an ASCII fallback and the exact name encoded', () => {
    expect(contentDisposition('report.pdf')).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(contentDisposition('Übersicht "final".pdf')).toBe(`attachment; filename="_bersicht _final_.pdf"; filename*=UTF-8''%C3%9Cbersicht%20%22final%22.pdf`);
    expect(contentDisposition('照片 1.jpg')).toBe(`attachment; filename="__ 1.jpg"; filename*=UTF-8''%E7%85%A7%E7%89%87%201.jpg`);
    expect(contentDisposition('a\\b.txt')).toBe(`attachment; filename="a_b.txt"; filename*=UTF-8''a%5Cb.txt`);
  });
});
