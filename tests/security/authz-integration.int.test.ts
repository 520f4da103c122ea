import { ErpService } from '../../src/integrations';
import { createLogger } from '../../src/platform/logger';
import type { Principal } from '../../src/platform/http/principal';
import { fileWarrantyClaim, partsAvailability, setUpTasksWorld, vin, type TasksWorld } from '../integration/tasks-support';
import { createUserAndLogin, request, startTestApp, type TestApp, type TestUser } from '../support/test-app';

/** Issue 12: an `integration` key is the ERP task API and nothing else; a key may be limited to departments. */
describe('what an integration key may do', () => {
  let app: TestApp;
  let world: TasksWorld;
  let admin: TestUser;
  let erpKey: string;

  beforeAll(async () => {
    app = await startTestApp({}, { routing: false });
    world = await setUpTasksWorld(app);
    admin = await createUserAndLogin(app, 'admin');
    const created = await request(app, 'POST', '/api/api-keys', { token: admin.token, body: { name: 'ERP', role: 'integration' } });
    expect(created.status).toBe(201);
    erpKey = created.body.key;
  });
  afterAll(() => app.destroy());

  const asKey = (method: string, path: string, body?: unknown) => request(app, method, path, { apiKey: erpKey, ...(body !== undefined ? { body } : {}) });

  it('when an integration key reads customers, timelines, interactions or users, then every one is 403', async () => {
    const task = await fileWarrantyClaim(app, world, 'Customer data stays inside');
    const interaction = await app.services.interactions.getInteraction(world.interactionId);
    const entryId = interaction.entries![0].id;
    const refused: Array<[string, string, unknown?]> = [
      ['GET', '/api/customers?q=Li'],
      ['GET', `/api/customers/${world.customerId}`],
      ['GET', `/api/customers/${world.customerId}/timeline`],
      ['GET', `/api/interactions/${world.interactionId}`],
      ['GET', `/api/interactions?customerId=${world.customerId}`],
      ['POST', `/api/interactions/${world.interactionId}/notes`, { text: 'from the ERP' }],
      ['GET', `/api/interactions/${world.interactionId}/entries/${entryId}/attachments/0`],
      ['POST', `/api/interactions/${world.interactionId}/replies`, { text: 'hello' }],
      ['GET', '/api/users'],
      ['GET', '/api/reports/scorecards/agents?from=2026-01-01&to=2026-01-02'],
      ['GET', '/api/voice/token'],
      ['POST', `/api/tasks/${task.id}/comments`, { text: 'x', visibility: 'internal' }],
      ['POST', `/api/tasks/${task.id}/accept`, {}],
      ['PUT', `/api/tasks/${task.id}/watchers`, { watcherIds: [] }],
    ];
    for (const [method, path, body] of refused) {
      const response = await asKey(method, path, body);
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 403 });
    }
  });

  it('when an integration key uses the task API, then it may file, list and read tasks, read departments, and move them through /api/integrations', async () => {
    const filed = await asKey('POST', '/api/tasks', { departmentId: world.warranty.id, typeCode: 'warranty-claim', title: 'From the dealer system', customerId: world.customerId, fields: { vin } });
    expect(filed.status).toBe(201);
    expect((await asKey('GET', `/api/tasks/${filed.body.id}`)).status).toBe(200);
    expect((await asKey('GET', `/api/tasks/by-reference/${filed.body.reference}`)).status).toBe(200);
    expect((await asKey('GET', `/api/tasks?departmentId=${world.warranty.id}`)).body.items.map((task: { id: string }) => task.id)).toContain(filed.body.id);
    expect((await asKey('GET', '/api/departments')).status).toBe(200);
    expect((await asKey('GET', `/api/departments/${world.parts.id}`)).status).toBe(200);
    const feedback = await asKey('POST', `/api/integrations/tasks/${filed.body.reference}/feedback`, { text: 'Part ordered', visibility: 'internal' });
    expect(feedback.status).toBe(201);
  });

  describe('a key limited to departments', () => {
    // The key's departments are stored on the key by the API-key module; the services enforce them.
    const limitedTo = (...departmentIds: string[]): Principal => ({ kind: 'api_key', id: 'erp-warranty-only', role: 'integration', name: 'ERP', departmentIds });

    it('when it files, reads, lists or changes a task of another department, then 404 as if the task did not exist; its own department works', async () => {
      const key = limitedTo(world.warranty.id);
      const partsTask = await app.services.tasks.fileTask({ departmentId: world.parts.id, typeCode: partsAvailability.code, title: 'Parts only', customerId: world.customerId, fields: { partNumber: 'A-1' } }, { kind: 'user', id: world.agent.id, role: 'agent', name: 'agent' });
      const own = await app.services.tasks.fileTask({ departmentId: world.warranty.id, typeCode: 'warranty-claim', title: 'Warranty by key', customerId: world.customerId, fields: { vin } }, key);

      await expect(app.services.tasks.fileTask({ departmentId: world.parts.id, typeCode: partsAvailability.code, title: 'x', customerId: world.customerId, fields: { partNumber: 'A-2' } }, key)).rejects.toMatchObject({ code: 'not_found' });
      await expect(app.services.tasks.getTask(partsTask.id, key)).rejects.toMatchObject({ code: 'not_found' });
      await expect(app.services.tasks.getByReference(partsTask.reference, key)).rejects.toMatchObject({ code: 'not_found' });
      const erp = new ErpService(app.services.tasks, createLogger('silent'));
      await expect(erp.setStatus(partsTask.reference, { status: 'accepted' }, key)).rejects.toMatchObject({ code: 'not_found' });
      await expect(erp.postFeedback(partsTask.reference, { text: 'probe', visibility: 'internal' }, key)).rejects.toMatchObject({ code: 'not_found' });
      await expect(app.services.tasks.perform(own.id, 'forward', key, { toDepartmentId: world.parts.id, reason: 'wrong desk' })).rejects.toMatchObject({ code: 'not_found' });

      const listed = await app.services.tasks.listTasks({}, key);
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.every((task) => task.departmentId === world.warranty.id)).toBe(true);
      expect(await app.services.tasks.listTasks({ departmentId: world.parts.id }, key)).toEqual([]);
      expect((await app.services.tasks.getTask(own.id, key)).id).toBe(own.id);
      expect((await erp.setStatus(own.reference, { status: 'accepted' }, key)).status).toBe('accepted');

      const unchanged = await app.services.tasks.findTask(partsTask.id);
      expect(unchanged!.history!.map((entry) => entry.action)).toEqual(['created']);
    });

    it('when it reads departments, then it sees only its own; another is 404', async () => {
      const key = limitedTo(world.warranty.id);
      expect((await app.services.departments.listFor(key)).map((department) => department.id)).toEqual([world.warranty.id]);
      await expect(app.services.departments.getFor(world.parts.id, key)).rejects.toMatchObject({ code: 'not_found' });
      expect((await app.services.departments.getFor(world.warranty.id, key)).id).toBe(world.warranty.id);
    });
  });
});
