import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { sendEmail, eventually } from '../support/email';
import { createUserAndLogin, request, type TestUser } from '../support/test-app';
import { problemsOf, screenshot, signIn, startE2e, type E2eEnv } from './e2e-support';

/**
 * The screens in a real browser against the real app: an agent's desk receiving a call placed by a
 * signed Twilio webhook, the pop with the customer's earlier SMS and email, the supervisor's
 * wallboard following along live, and the Chinese strings. One story, one browser, steps in order.
 */
describe('the agent desk and the wallboard in Chromium', () => {
  let env: E2eEnv;
  let agent: TestUser;
  let supervisor: TestUser;
  let admin: TestUser;
  let warrantyDesk: TestUser;
  let warrantyDesk2: TestUser;
  let warrantyBoard: Page;
  let warrantyBoard2: Page;
  let task: { id: string; reference: string };
  let agentContext: BrowserContext;
  let desk: Page;
  let board: Page;
  let customerId: string;
  let warrantyDepartmentId: string;
  const phone = `+86139${String(Date.now()).slice(-8)}`;
  const email = `li.na.${randomBytes(3).toString('hex')}@example.cn`;
  // The README's screenshots are refreshed on request (UPDATE_DOCS_SCREENSHOTS=1), so an ordinary
  // test run leaves the checkout clean; every run saves its own under tests/e2e/screenshots/.
  const docsScreenshots = path.join(__dirname, '..', '..', 'docs', 'screenshots');
  const toDocs = (file: string, name: string) => {
    if (process.env.UPDATE_DOCS_SCREENSHOTS !== '1') return;
    fs.mkdirSync(docsScreenshots, { recursive: true });
    fs.copyFileSync(file, path.join(docsScreenshots, name));
  };
  /** A department user with a person's name, as the "already taken by …" message shows it. */
  const departmentUser = async (name: string, departmentId: string): Promise<TestUser> => {
    const email = `${name.toLowerCase().replace(' ', '.')}.${randomBytes(3).toString('hex')}@test.switchboard.local`;
    const password = randomBytes(12).toString('hex');
    const user = await env.app.services.auth.createUser({ email, password, role: 'department', name, departmentId });
    return { id: user.id, email, password, token: '' };
  };
  const call = (sid: string) => ({ CallSid: sid, AccountSid: env.twilio.accountSid, From: phone, To: '+862159999999', CallStatus: 'ringing', Direction: 'inbound' });

  beforeAll(async () => {
    env = await startE2e();
    [agent, supervisor, admin] = await Promise.all([createUserAndLogin(env.app, 'agent'), createUserAndLogin(env.app, 'supervisor'), createUserAndLogin(env.app, 'admin')]);
    const warranty = await env.app.services.departments.create({
      code: 'warranty', name: 'Warranty claims', timezone: 'Asia/Shanghai',
      taskTypes: [{ code: 'warranty-claim', name: 'Warranty claim', slaMinutes: 480, defaultPriority: 'normal', fields: [{ key: 'vin', label: 'VIN', required: true, pattern: '[A-HJ-NPR-Z0-9]{17}' }], checklist: [], notifyCustomerOnCreate: false, templates: {} }],
    });
    warrantyDepartmentId = warranty.id;
    [warrantyDesk, warrantyDesk2] = await Promise.all([departmentUser('Wang Lei', warranty.id), departmentUser('Zhao Min', warranty.id)]);

    // A known customer who texted and emailed before; both contacts are done with.
    const created = await request(env.app, 'POST', '/api/customers', {
      token: agent.token,
      body: { name: 'Li Na', phones: [phone], emails: [email], tier: 'gold', tags: ['new-owner'], attributes: { model: 'Tiggo 8 Pro', vin: 'LVTDB21B1ND123456', dealer: 'Shanghai Pudong Motors' } },
    });
    expect(created.status).toBe(201);
    customerId = created.body.id;
    const sms = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: env.twilio.accountSid, From: phone, To: '+862150000000', Body: 'Is my car ready for pick-up?', NumMedia: '0' };
    expect((await env.webhook('/webhooks/twilio/sms', sms)).status).toBe(200);
    const mail = await sendEmail(env.smtpPort, {
      from: `"Li Na" <${email}>`,
      to: env.supportEmail,
      subject: 'Invoice for the last service',
      // What a hostile sender might try: none of it may run in the agent's browser.
      html: '<p>Please resend the <b>invoice</b> for my car.</p><script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">',
    });
    expect(mail.accepted).toBe(true);
    const earlier = await eventually(async () => {
      const { items } = await env.app.services.interactions.getTimeline(customerId, { limit: 10 });
      return items.length === 2 ? items : undefined;
    }, 10_000, 'the SMS and the email on the timeline');
    for (const item of earlier) await env.app.services.interactions.updateInteraction(item.id, { status: 'closed' });
  });

  afterAll(async () => {
    await env?.close();
  });

  it('when the supervisor signs in, then the wallboard lists every queue with nobody waiting', async () => {
    board = await signIn(env, await env.newContext(), supervisor, 'login');
    await board.getByTestId('queue-general').waitFor();
    expect(await board.getByTestId('queue-general').getByTestId('waiting').textContent()).toBe('0');
    expect(await board.locator('[data-testid^="queue-"]').count()).toBeGreaterThanOrEqual(6);
  });

  it('when the agent signs in and goes available, then the desk says so and the wallboard shows the agent', async () => {
    agentContext = await env.newContext();
    desk = await signIn(env, agentContext, agent);
    expect(new URL(desk.url()).pathname).toBe('/agent');
    await desk.getByTestId('no-work').waitFor();
    await desk.getByRole('button', { name: 'Available' }).click();
    await desk.locator('[data-testid="agent-state"][data-state="available"]').waitFor();
    await board.locator(`[data-testid="agent-row"][data-agent="${agent.id}"][data-state="available"]`).waitFor();
  });

  it('when voice has no API key settings, then the softphone says it is not configured and its SDK is never fetched', async () => {
    const note = desk.getByTestId('softphone-unconfigured');
    await note.waitFor();
    expect(await note.textContent()).toContain('Softphone not configured (ask an admin to set TWILIO_API_KEY_SID');
    const scripts = await desk.evaluate(() => performance.getEntriesByType('resource').map((entry) => entry.name).filter((name) => name.endsWith('.js')));
    expect(scripts.some((name) => /twilio|voice-sdk/i.test(name))).toBe(false);
  });

  it('when the customer calls, then the offer pops with a countdown, the customer card and the earlier SMS and email', async () => {
    expect((await env.webhook('/webhooks/twilio/voice', call(`CA${randomBytes(16).toString('hex')}`))).status).toBe(200);
    const offer = desk.getByTestId('offer');
    await offer.waitFor();
    expect(await offer.getByTestId('offer-customer').textContent()).toBe('Li Na');
    expect(await offer.getByTestId('offer-countdown').textContent()).toMatch(/^\d+ s left$/);
    expect(await offer.getByRole('button', { name: /Accept/ }).textContent()).toContain('A');

    const card = desk.getByTestId('customer-card');
    expect(await card.textContent()).toEqual(expect.stringContaining('LVTDB21B1ND123456'));
    expect(await card.textContent()).toEqual(expect.stringContaining('Gold'));
    const channels = await desk.getByTestId('timeline-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-channel')));
    expect(channels).toEqual(['voice', 'email', 'sms']);

    // The email opens to the server-sanitized HTML: the markup shows, the script never ran.
    await desk.locator('[data-testid="timeline-item"][data-channel="email"] button').click();
    const body = desk.locator('.email-html');
    await body.locator('b', { hasText: 'invoice' }).waitFor();
    expect(await body.locator('script').count()).toBe(0);
    expect(await desk.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await desk.locator('[data-testid="timeline-item"][data-channel="sms"] button').click();
    await desk.getByText('Is my car ready for pick-up?').waitFor();

    // The wallboard sees the offer ringing in its queue.
    await board.getByTestId('queue-general').getByTestId('ringing').and(board.getByText('1', { exact: true })).waitFor();
    const file = await screenshot(desk, 'agent-desktop-offer');
    toDocs(file, 'agent-desktop.png');
  });

  it('when the agent presses A, then the call is theirs and the wallboard counts it answered with the agent busy', async () => {
    await desk.keyboard.press('a');
    await desk.getByTestId('offer').waitFor({ state: 'detached' });
    await desk.getByTestId('work-area').waitFor();
    await desk.locator('[data-testid="agent-state"][data-state="busy"]').waitFor();

    const general = board.getByTestId('queue-general');
    await general.getByTestId('answered').and(board.getByText('1/1')).waitFor();
    await general.getByTestId('agents-busy').and(board.getByText('1', { exact: true })).waitFor();
    expect(await general.getByTestId('service-level').textContent()).toBe('100%');
    await board.locator(`[data-testid="agent-row"][data-agent="${agent.id}"][data-state="busy"]`).waitFor();
    await screenshot(desk, 'agent-desktop-call');
    await screenshot(board, 'wallboard');
  });

  it('when the agent files a warranty task with a malformed VIN, then the form says so by the field, and once corrected the task is filed', async () => {
    [warrantyBoard, warrantyBoard2] = await Promise.all([signIn(env, await env.newContext(), warrantyDesk), signIn(env, await env.newContext(), warrantyDesk2)]);
    expect(new URL(warrantyBoard.url()).pathname).toBe('/department');
    await warrantyBoard.getByTestId('column-open').waitFor();
    await warrantyBoard2.getByTestId('column-open').waitFor();

    await desk.getByTestId('file-task').click();
    const form = desk.getByTestId('file-task-form');
    await form.getByTestId('task-department').selectOption({ label: 'Warranty claims' });
    await form.getByTestId('task-type').selectOption('warranty-claim');
    await form.getByText('*').first().waitFor();
    await form.getByTestId('task-field-vin').fill('LVTDB21B1');
    await form.getByTestId('task-title').fill('Gearbox noise under warranty');
    await form.getByRole('button', { name: 'File task' }).click();
    await form.getByTestId('error-fields.vin').and(form.getByText('This does not look like a VIN.')).waitFor();
    await form.getByTestId('task-field-vin').fill('LVTDB21B1ND123456');
    await form.getByRole('button', { name: 'File task' }).click();
    await form.waitFor({ state: 'detached' });
    await desk.getByTestId('my-task').and(desk.locator('[data-status="open"]')).waitFor();
    await desk.getByTestId('open-tasks').getByText('Gearbox noise under warranty').waitFor();

    const { body: page } = await request(env.app, 'GET', '/api/tasks?mine=filed', { token: agent.token });
    task = page.items[0];
    expect(task).toMatchObject({ title: 'Gearbox noise under warranty', fields: { vin: 'LVTDB21B1ND123456' }, customerId });
  });

  it('when the task is filed, then both warranty boards show it at once, highlighted, and the wallboard counts it open', async () => {
    for (const page of [warrantyBoard, warrantyBoard2]) {
      const card = page.getByTestId('column-open').locator(`[data-testid="task-card"][data-task="${task.id}"]`);
      await card.getByText('Gearbox noise under warranty').waitFor();
      await card.getByText('LVTDB21B1ND123456').waitFor();
      expect(await card.getByTestId('due').textContent()).toMatch(/^due in \d+ (min|h|d)$/);
    }
    await board.getByTestId('tasks-warranty').getByTestId('tasks-open').and(board.getByText('1', { exact: true })).waitFor();
  });

  it('when two warranty users reach for the same task, then the first gets it and the second is told who already took it', async () => {
    // The second user's accept is held on the wire until the first one's has landed: a real race, made deterministic.
    let intercepted!: () => void;
    const held = new Promise<void>((resolve) => (intercepted = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await warrantyBoard2.route('**/api/tasks/*/accept', async (route) => {
      intercepted();
      await released;
      await route.continue();
    });
    await warrantyBoard2.locator(`[data-testid="task-card"][data-task="${task.id}"]`).getByTestId('card-accept').click();
    await held;

    await warrantyBoard.locator(`[data-testid="task-card"][data-task="${task.id}"] .task-card-open`).click();
    const detail = warrantyBoard.getByTestId('task-detail');
    await detail.getByText('Gearbox noise under warranty').waitFor();
    await detail.getByTestId('task-customer').getByText('Li Na').first().waitFor();
    await detail.getByTestId('task-accept').click();
    await warrantyBoard.locator('[data-testid="task-detail"][data-status="accepted"]').waitFor();
    await warrantyBoard.getByTestId('column-accepted').locator(`[data-task="${task.id}"]`).waitFor();

    release();
    await warrantyBoard2.getByRole('alert').getByText(`${task.reference} was already taken by Wang Lei`).waitFor();
    // The colleague's name on the card comes from GET /api/users/colleagues.
    await warrantyBoard2.getByTestId('column-accepted').locator(`[data-task="${task.id}"]`).getByText('Wang Lei').waitFor();
    await warrantyBoard2.unroute('**/api/tasks/*/accept');
    await board.getByTestId('tasks-warranty').getByTestId('tasks-working').and(board.getByText('1', { exact: true })).waitFor();
  });

  it('when the warranty user comments and resolves, then the agent sees the resolution without a reload and confirms it', async () => {
    const detail = warrantyBoard.getByTestId('task-detail');
    await detail.getByTestId('task-comment').fill('Dealer confirmed the noise on a test drive');
    await detail.getByTestId('task-comment-submit').click();
    await detail.getByTestId('task-history').getByText('Dealer confirmed the noise on a test drive').waitFor();
    await detail.getByTestId('task-resolve').click();
    await detail.getByTestId('task-form-text').fill('Gearbox replaced under warranty');
    await detail.getByTestId('task-form-submit').click();
    await warrantyBoard.locator('[data-testid="task-detail"][data-status="resolved"]').waitFor();
    await warrantyBoard.getByTestId('column-done').locator(`[data-task="${task.id}"]`).waitFor();
    const file = await screenshot(warrantyBoard, 'department-board');
    toDocs(file, 'department-board.png');

    await desk.getByTestId('my-task').and(desk.locator('[data-status="resolved"]')).getByText('Gearbox replaced under warranty').waitFor();
    await board.getByTestId('tasks-warranty').getByTestId('tasks-working').and(board.getByText('0', { exact: true })).waitFor();
    await screenshot(desk, 'agent-desktop-task-resolved');
    // The whole wallboard (charts and the tasks panel sit below the fold at 1366×768) for the README.
    await board.getByTestId('chart-volume').locator('rect').first().waitFor();
    toDocs(await screenshot(board, 'wallboard-full', { fullPage: true }), 'wallboard.png');

    // The agent opens it: the department's comment is in the history, and the customer's "yes" is recorded.
    await desk.getByTestId('my-task-open').click();
    const mine = desk.getByTestId('task-detail');
    await mine.getByTestId('task-history').getByText('Dealer confirmed the noise on a test drive').waitFor();
    await mine.getByTestId('task-verify').click();
    await desk.locator('[data-testid="task-detail"][data-status="verified"]').waitFor();
    await desk.getByTestId('my-task').and(desk.locator('[data-status="verified"]')).waitFor();
    await desk.keyboard.press('Escape');
    await mine.waitFor({ state: 'detached' });
  });

  it('when a second call waits, then the supervisor sees it waiting, moves it to another queue and forces the agent away', async () => {
    const secondCall = `CA${randomBytes(16).toString('hex')}`;
    expect((await env.webhook('/webhooks/twilio/voice', call(secondCall))).status).toBe(200);
    const row = board.getByTestId('waiting-row');
    await row.and(board.locator('tr', { hasText: 'general' })).waitFor();
    await board.getByTestId('queue-general').getByTestId('waiting').and(board.getByText('1', { exact: true })).waitFor();
    await row.getByRole('combobox').selectOption('sales');
    await row.getByRole('button', { name: 'Move' }).click();
    await board.getByTestId('queue-sales').getByTestId('waiting').and(board.getByText('1', { exact: true })).waitFor();
    await board.getByTestId('waiting-row').and(board.locator('tr', { hasText: 'sales' })).waitFor();

    const agentRow = board.locator(`[data-testid="agent-row"][data-agent="${agent.id}"]`);
    await agentRow.getByRole('combobox').selectOption('away');
    await agentRow.getByRole('button', { name: 'Set' }).click();
    await desk.locator('[data-testid="agent-state"][data-state="away"]').waitFor();

    // The waiting caller gives up: gone from the list and from the queue's figures, without a reload.
    expect((await env.webhook('/webhooks/twilio/voice/status', { CallSid: secondCall, AccountSid: env.twilio.accountSid, CallStatus: 'completed' })).status).toBe(200);
    await board.getByText('Nobody is waiting.').waitFor();
    await board.getByTestId('queue-sales').getByTestId('waiting').and(board.getByText('0', { exact: true })).waitFor();
  });

  it('when the agent completes the call with W and an outcome, then the desk is free again', async () => {
    await desk.getByTestId('disposition').selectOption('resolved');
    // Out of the field, so the key is a shortcut and not typing.
    await desk.getByTestId('disposition').evaluate((select) => (select as unknown as { blur(): void }).blur());
    await desk.keyboard.press('w');
    await desk.getByTestId('no-work').waitFor();
    const finished = await eventually(async () => {
      const { items } = await env.app.services.interactions.getTimeline(customerId, { limit: 10 });
      const full = await env.app.services.interactions.getInteraction(items.find((item) => item.channel === 'voice' && item.agentId === agent.id)!.id);
      return full.entries?.some((entry) => entry.data?.disposition === 'resolved') ? full : undefined;
    }, 5_000, 'the disposition on the call');
    expect(finished.agentId).toBe(agent.id);
  });

  it('when the customer texts and the agent takes it, then the agent answers from the thread and the reply leaves by SMS', async () => {
    await desk.getByRole('button', { name: 'Available' }).click();
    await desk.locator('[data-testid="agent-state"][data-state="available"]').waitFor();
    const text = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: env.twilio.accountSid, From: phone, To: '+862150000000', Body: 'Can I book a service on Saturday?', NumMedia: '0' };
    expect((await env.webhook('/webhooks/twilio/sms', text)).status).toBe(200);
    const offer = desk.getByTestId('offer');
    await offer.getByText('New SMS conversation').waitFor();
    await offer.getByRole('button', { name: /Accept/ }).click();

    const work = desk.getByTestId('work-area');
    await work.getByTestId('thread').getByText('Can I book a service on Saturday?').waitFor();

    // The customer writes again while the agent holds the conversation: the thread shows it from the
    // socket's interaction_updated, well before any re-read could.
    const again = { ...text, MessageSid: `SM${randomBytes(16).toString('hex')}`, Body: 'Or Sunday morning, if Saturday is full.' };
    expect((await env.webhook('/webhooks/twilio/sms', again)).status).toBe(200);
    await work.getByTestId('thread').getByText('Or Sunday morning, if Saturday is full.').waitFor({ timeout: 2_000 });
    expect(await work.getByTestId('thread').getByText('Can I book a service on Saturday?').count()).toBe(1);

    // A transfer needs a note for the next person: without one the form says so and nothing moves.
    await work.getByTestId('transfer-open').click();
    const transfer = work.getByTestId('transfer-form');
    await transfer.getByTestId('transfer-queue').selectOption('sales');
    await transfer.getByTestId('transfer-submit').click();
    await transfer.getByTestId('transfer-error').getByText('Write a note for the next person.').waitFor();
    await transfer.getByRole('button', { name: 'Cancel' }).click();
    await transfer.waitFor({ state: 'detached' });
    await work.getByPlaceholder('Type an SMS reply…').fill('Yes, Saturday 10:00 works. See you then!');
    await work.getByRole('button', { name: 'Send' }).click();
    await work.getByTestId('thread').getByText('Yes, Saturday 10:00 works. See you then!').waitFor();
    await eventually(async () => env.twilio.messages.find((message) => message.to === phone && message.body === 'Yes, Saturday 10:00 works. See you then!'), 5_000, 'the reply at Twilio');
    await screenshot(desk, 'agent-desktop-sms');
    await work.getByRole('button', { name: /Complete/ }).click();
    await desk.getByTestId('no-work').waitFor();
  });

  it('when the agent switches to Chinese, then the screen reads in Chinese and the choice is saved on the account', async () => {
    await desk.getByTestId('locale').selectOption('zh-CN');
    await desk.getByRole('link', { name: '坐席工作台' }).waitFor();
    await desk.getByText('全渠道历史').or(desk.getByText('当前没有联系')).first().waitFor();
    await desk.getByTestId('agent-state').and(desk.getByText('空闲', { exact: true })).waitFor();
    await desk.getByRole('button', { name: '离开' }).waitFor();
    await eventually(async () => ((await request(env.app, 'GET', '/api/auth/me', { token: agent.token })).body.locale === 'zh-CN' ? true : undefined), 5_000, 'the saved locale');
    await screenshot(desk, 'agent-desktop-zh-CN');
  });

  it('when the connection drops, then the indicator says so, and it comes back online by itself', async () => {
    await agentContext.setOffline(true);
    await desk.locator('[data-testid="connection"][data-status="offline"]').waitFor();
    await agentContext.setOffline(false);
    await desk.locator('[data-testid="connection"][data-status="online"]').waitFor({ timeout: 15_000 });
  });

  it('when an admin signs in, then the admin pages list users and departments', async () => {
    const page = await signIn(env, await env.newContext(), admin);
    expect(new URL(page.url()).pathname).toBe('/admin');
    await page.getByTestId('users-table').getByText(agent.email).waitFor();
    await screenshot(page, 'admin-users');
    await page.getByRole('tab', { name: 'Departments' }).click();
    await page.getByTestId('edit-warranty').click();
    const form = page.getByTestId('department-form');
    await form.getByTestId('hours-mon').fill('09:00-12:00, 13:00-18:00');
    await form.getByTestId('type-sla').first().fill('240');
    await form.getByTestId('department-save').click();
    await page.getByText('Warranty claims saved.').waitFor();
    const saved = await env.app.services.departments.get(warrantyDepartmentId);
    expect(saved.businessHours.weekly.mon).toEqual([{ start: '09:00', end: '12:00' }, { start: '13:00', end: '18:00' }]);
    expect(saved.taskTypes[0]).toMatchObject({ code: 'warranty-claim', slaMinutes: 240, fields: [{ key: 'vin', required: true, pattern: '[A-HJ-NPR-Z0-9]{17}' }] });
    for (const opened of [page, desk, board, warrantyBoard, warrantyBoard2]) expect(problemsOf(opened)).toEqual([]);
  });

  it('when the admin gives the agent a skill on the agents page, then the routing profile keeps it', async () => {
    const page = await signIn(env, await env.newContext(), admin);
    await page.getByRole('tab', { name: 'Agents & skills' }).click();
    await page.getByTestId(`edit-agent-${agent.email}`).click();
    const form = page.getByTestId('agent-profile-form');
    await form.getByTestId('add-skill').click();
    await form.getByTestId('skill-name').last().fill('warranty');
    await form.getByTestId('skill-level').last().fill('4');
    await form.getByTestId('agent-profile-save').click();
    await page.getByText('Routing profile of Test agent saved.').waitFor();
    const profile = await request(env.app, 'GET', `/api/routing/agents/${agent.id}/profile`, { token: admin.token });
    expect(profile.status).toBe(200);
    expect(profile.body.skills).toMatchObject({ warranty: 4 });
    expect(problemsOf(page)).toEqual([]);
  });
});
