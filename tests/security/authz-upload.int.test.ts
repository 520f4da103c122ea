import http from 'node:http';
import { fileWarrantyClaim, setUpTasksWorld, type TasksWorld } from '../integration/tasks-support';
import { request, startTestApp, type TestApp } from '../support/test-app';

const tenMegabytes = 10 * 1024 * 1024;

/**
 * Streams a 10 MB body slowly (64 KB, then a pause) and notes how many bytes were sent when the
 * answer arrived: a server that reads the body before deciding answers only after the last byte.
 */
function slowUpload(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; sentWhenAnswered: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(tenMegabytes), 'x-filename': 'big.bin', ...headers } });
    req.on('response', (res) => {
      answered = true;
      const sentWhenAnswered = sent;
      res.resume();
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, sentWhenAnswered });
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = () => {
      if (answered || req.destroyed) return;
      if (sent >= tenMegabytes) {
        req.end();
        return;
      }
      req.write(chunk);
      sent += chunk.length;
      setTimeout(pump, 5);
    };
    pump();
  });
}

/** Issue 12: the task upload read 10 MB before it knew who was sending. */
describe('task attachment upload: who first, bytes after', () => {
  let app: TestApp;
  let world: TasksWorld;
  let taskId: string;

  beforeAll(async () => {
    app = await startTestApp({}, { routing: false });
    world = await setUpTasksWorld(app);
    taskId = (await fileWarrantyClaim(app, world, 'Photos to come')).id;
  });
  afterAll(() => app.destroy());

  it('when an unauthenticated client streams a 10 MB upload, then 401 arrives before the client has sent 1 MB', async () => {
    const result = await slowUpload(app.url, `/api/tasks/${taskId}/attachments`, {});
    expect(result.status).toBe(401);
    expect(result.sentWhenAnswered).toBeLessThan(1024 * 1024);
  }, 20_000);

  it("when a department user of another department streams an upload, then 404 arrives before the body is read", async () => {
    const result = await slowUpload(app.url, `/api/tasks/${taskId}/attachments`, { authorization: `Bearer ${world.partsUser.token}` });
    expect(result.status).toBe(404);
    expect(result.sentWhenAnswered).toBeLessThan(1024 * 1024);
  }, 20_000);

  it('when the task\'s own department uploads a small file, then it is stored', async () => {
    const response = await fetch(`${app.url}/api/tasks/${taskId}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.warrantyUser.token}`, 'content-type': 'image/png', 'x-filename': 'photo.png' },
      body: Buffer.from('not really a png'),
    });
    expect(response.status).toBe(201);
    const task = (await request(app, 'GET', `/api/tasks/${taskId}`, { token: world.warrantyUser.token })).body;
    expect(task.attachments).toEqual([expect.objectContaining({ filename: 'photo.png', size: 16 })]);
  });
});
