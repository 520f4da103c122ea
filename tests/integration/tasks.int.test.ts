import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connectSocket, type TestSocket } from '../support/socket';
import { request, startTestApp, type TestApp } from '../support/test-app';
import { compareEventIds, fileWarrantyClaim, setUpTasksWorld, type TasksWorld } from './tasks-support';

describe('follow-up tasks: the loop between agent and department, live', () => {
  let app: TestApp;
  let world: TasksWorld;
  let attachmentsDir: string;
  const sockets: TestSocket[] = [];
  const open = async (token: string, lastEventId?: string) => {
    const socket = await connectSocket(app.url, { token, ...(lastEventId ? { lastEventId } : {}) });
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    attachmentsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sb-task-attachments-'));
    app = await startTestApp({ ATTACHMENTS_DIR: attachmentsDir });
    world = await setUpTasksWorld(app);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await app?.destroy();
    await fs.rm(attachmentsDir, { recursive: true, force: true });
  });

  it('when an agent files a warranty claim and the department works it, then the board sees it at once and the agent gets every change in order, replayed after a reconnect', async () => {
    const board = await open(world.warrantyUser.token);
    const agentSocket = await open(world.agent.token);

    const task = await fileWarrantyClaim(app, world);
    expect(task).toMatchObject({ status: 'open', ownerId: world.warrantyHead.id });
    const created = await board.waitFor('task_created', (event) => event.data.task.id === task.id);
    expect(created.data.task).toMatchObject({ reference: task.reference, status: 'open', fields: { vin: expect.any(String) } });
    expect(created.data.task).not.toHaveProperty('history');

    const act = (step: string, body: object = {}) => request(app, 'POST', `/api/tasks/${task.id}/${step}`, { token: world.warrantyUser.token, body });
    expect((await act('accept')).status).toBe(200);
    expect((await act('comments', { text: 'Dealer sends photos tomorrow', visibility: 'customer' })).status).toBe(201);
    expect((await act('start')).status).toBe(200);
    const resolved = await act('resolve', { resolution: 'Gearbox replaced under warranty' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: 'Gearbox replaced under warranty', ownerId: world.agent.id, assigneeId: world.warrantyUser.id });

    await agentSocket.waitFor('task_updated', (event) => event.data.entry.action === 'resolved');
    const updates = agentSocket.received.filter((item) => item.event === 'task_updated' && item.payload.data.task.id === task.id).map((item) => item.payload);
    // The system's own entries (e.g. the customer notified of the resolution) may follow; people's changes come in order.
    const byPeople = updates.filter((event) => event.data.entry.actor.kind === 'user');
    expect(byPeople.map((event) => event.data.entry.action)).toEqual(['created', 'accepted', 'commented', 'started', 'resolved']);
    expect(byPeople.map((event) => event.data.task.status)).toEqual(['open', 'accepted', 'accepted', 'in_progress', 'resolved']);
    for (let index = 1; index < updates.length; index++) expect(compareEventIds(updates[index].id, updates[index - 1].id)).toBeGreaterThan(0);
    // The board follows each change too, as room nudges carrying the task.
    await board.waitFor('task_updated', (event) => event.data.task.id === task.id && event.data.entry.action === 'resolved');

    // Nothing missed: a change made while the agent is away arrives in the replay.
    const lastSeen = updates[updates.length - 1].id;
    agentSocket.close();
    expect((await act('comments', { text: 'Customer collected the car', visibility: 'internal' })).status).toBe(201);
    const back = await open(world.agent.token, lastSeen);
    const replay = await back.waitFor('replay');
    expect(replay.complete).toBe(true);
    const replayedByPeople = replay.events.filter((event: any) => event.data.entry.actor.kind === 'user');
    expect(replayedByPeople.map((event: any) => [event.event, event.data.entry.action, event.data.entry.comment])).toEqual([['task_updated', 'commented', 'Customer collected the car']]);

    const full = await request(app, 'GET', `/api/tasks/${task.id}`, { token: world.agent.token });
    const peopleHistory = full.body.history.filter((entry: { actor: { kind: string } }) => entry.actor.kind === 'user');
    expect(peopleHistory.map((entry: { action: string }) => entry.action)).toEqual(['created', 'accepted', 'commented', 'started', 'resolved', 'commented']);
    const byReference = await request(app, 'GET', `/api/tasks/by-reference/${task.reference}`, { token: world.warrantyUser.token });
    expect(byReference.body.id).toBe(task.id);
  });

  it('when the department rejects a task, then it comes back to the filing agent with the reason, live', async () => {
    const agentSocket = await open(world.agent.token);
    const task = await fileWarrantyClaim(app, world, 'Paint defect');
    const rejected = await request(app, 'POST', `/api/tasks/${task.id}/reject`, { token: world.warrantyUser.token, body: { reason: 'Paint is not covered after 3 years; send to Quality' } });
    expect(rejected.status).toBe(200);
    const event = await agentSocket.waitFor('task_updated', (payload) => payload.data.task.id === task.id && payload.data.entry.action === 'rejected');
    expect(event.data.task).toMatchObject({ status: 'rejected', rejectionReason: 'Paint is not covered after 3 years; send to Quality', ownerId: world.agent.id });
    expect(event.data.entry.comment).toBe('Paint is not covered after 3 years; send to Quality');

    const mine = await request(app, 'GET', '/api/tasks?mine=filed&status=rejected', { token: world.agent.token });
    expect(mine.body.items.map((item: { id: string }) => item.id)).toEqual([task.id]);
  });

  it('when two department users accept the same task at once, then exactly one wins and the other gets a clear 409', async () => {
    const task = await fileWarrantyClaim(app, world, 'Battery drains overnight');
    const results = await Promise.all(
      [world.warrantyUser, world.warrantyHead].map((user) => request(app, 'POST', `/api/tasks/${task.id}/accept`, { token: user.token, body: {} })),
    );
    expect(results.map((result) => result.status).sort()).toEqual([200, 409]);
    const winner = results.find((result) => result.status === 200)!;
    const loser = results.find((result) => result.status === 409)!;
    expect(loser.body.error.message).toMatch(/already accepted by someone else/);
    const stored = await request(app, 'GET', `/api/tasks/${task.id}`, { token: world.agent.token });
    expect(stored.body).toMatchObject({ status: 'accepted', assigneeId: winner.body.assigneeId, version: 2 });
    expect(stored.body.history.filter((entry: { action: string }) => entry.action === 'accepted')).toHaveLength(1);
  });

  it("when a contact is offered, then the screen pop lists the customer's open tasks with status and due time", async () => {
    const task = await fileWarrantyClaim(app, world, 'Window regulator broken');
    const pop = await app.realtime!.buildScreenPop(world.interactionId);
    const listed = pop.openTasks!.find((item) => item.id === task.id);
    expect(listed).toMatchObject({ reference: task.reference, title: 'Window regulator broken', status: 'open', departmentId: world.warranty.id, overdue: false });
    expect(Date.parse(listed!.dueAt)).toBeGreaterThan(Date.now());
    // Closed tasks leave the pop.
    await request(app, 'POST', `/api/tasks/${task.id}/reject`, { token: world.warrantyUser.token, body: { reason: 'Duplicate of an earlier claim' } });
    expect((await request(app, 'POST', `/api/tasks/${task.id}/close`, { token: world.agent.token, body: {} })).status).toBe(200);
    const after = await app.realtime!.buildScreenPop(world.interactionId);
    expect(after.openTasks!.map((item) => item.id)).not.toContain(task.id);
  });

  it('when a department user attaches a file, then the agent downloads the same bytes as an attachment and another department cannot', async () => {
    const task = await fileWarrantyClaim(app, world, 'Cracked windscreen');
    const bytes = Buffer.from('%PDF-1.4 repair order 4711\n');
    const upload = await fetch(`${app.url}/api/tasks/${task.id}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.warrantyUser.token}`, 'content-type': 'application/pdf', 'x-filename': encodeURIComponent('维修单 4711.pdf') },
      body: bytes,
    });
    expect(upload.status).toBe(201);
    const attachment = ((await upload.json()) as { attachments: Array<{ id: string; filename: string; size: number }> }).attachments[0];
    expect(attachment).toMatchObject({ filename: '维修单 4711.pdf', size: bytes.length });

    const download = await fetch(`${app.url}/api/tasks/${task.id}/attachments/${attachment.id}`, { headers: { authorization: `Bearer ${world.agent.token}` } });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"]*4711\.pdf"; filename\*=UTF-8''/);
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');

    const outsider = await fetch(`${app.url}/api/tasks/${task.id}/attachments/${attachment.id}`, { headers: { authorization: `Bearer ${world.partsUser.token}` } });
    expect(outsider.status).toBe(404);
    const nameless = await request(app, 'POST', `/api/tasks/${task.id}/attachments`, { token: world.agent.token, headers: { 'content-type': 'image/png' }, rawBody: 'png' });
    expect(nameless.status).toBe(400);
    expect(nameless.body.error.details.map((problem: { field: string }) => problem.field)).toEqual(['X-Filename']);
  });
});
