import type { Department, TaskType } from '../../src/tasks';
import { createUserAndLogin, request, type TestApp, type TestUser } from '../support/test-app';

export const warrantyClaim: TaskType = {
  code: 'warranty-claim', name: 'Warranty claim', slaMinutes: 2880, defaultPriority: 'normal',
  fields: [{ key: 'vin', label: 'VIN', pattern: '[A-HJ-NPR-Z0-9]{17}', required: true }],
  checklist: ['Check the warranty period', 'Decide coverage'], notifyCustomerOnCreate: false, templates: { resolved: 'Your claim {reference} is resolved' },
};
export const partsAvailability: TaskType = {
  code: 'parts-availability', name: 'Parts availability', slaMinutes: 480, defaultPriority: 'normal',
  fields: [{ key: 'partNumber', label: 'Part number', required: true }], checklist: [], notifyCustomerOnCreate: false, templates: {},
};
export const vin = 'LVTDB21B1ND123456';

export interface TasksWorld {
  warranty: Department;
  parts: Department;
  agent: TestUser;
  warrantyHead: TestUser;
  warrantyUser: TestUser;
  partsUser: TestUser;
  customerId: string;
  interactionId: string;
}

/** Warranty and Parts departments with desk users (the first is the head), an agent, and a customer who called. */
export async function setUpTasksWorld(app: TestApp): Promise<TasksWorld> {
  const [warrantyBare, partsBare] = await Promise.all([
    app.services.departments.create({ code: 'warranty', name: 'Warranty claims', timezone: 'Asia/Shanghai', taskTypes: [warrantyClaim] }),
    app.services.departments.create({ code: 'parts', name: 'Parts', timezone: 'Asia/Shanghai', taskTypes: [partsAvailability] }),
  ]);
  const [agent, warrantyHead, warrantyUser, partsUser] = await Promise.all([
    createUserAndLogin(app, 'agent'),
    createUserAndLogin(app, 'department', { departmentId: warrantyBare.id }),
    createUserAndLogin(app, 'department', { departmentId: warrantyBare.id }),
    createUserAndLogin(app, 'department', { departmentId: partsBare.id }),
  ]);
  const [warranty, parts] = await Promise.all([
    app.services.departments.update(warrantyBare.id, { headUserId: warrantyHead.id }),
    app.services.departments.update(partsBare.id, { headUserId: partsUser.id }),
  ]);
  const customer = await request(app, 'POST', '/api/customers', { token: agent.token, body: { name: 'Li Wei', phones: [`+86138${String(Date.now()).slice(-8)}`] } });
  if (customer.status !== 201) throw new Error(`customer not created: ${customer.status} ${JSON.stringify(customer.body)}`);
  const call = await app.services.interactions.recordInboundEvent({
    externalId: `test:call:${customer.body.id}`, customerId: customer.body.id, channel: 'voice', direction: 'inbound', entry: { kind: 'call_event', data: { status: 'ringing' } },
  });
  return { warranty, parts, agent, warrantyHead, warrantyUser, partsUser, customerId: customer.body.id, interactionId: call.interaction.id };
}

/** Files a warranty claim through the API as the agent. */
export async function fileWarrantyClaim(app: TestApp, world: TasksWorld, title = 'Gearbox noise under warranty') {
  const response = await request(app, 'POST', '/api/tasks', {
    token: world.agent.token,
    body: { departmentId: world.warranty.id, typeCode: 'warranty-claim', title, description: 'Customer hears a whine at 80 km/h', customerId: world.customerId, interactionId: world.interactionId, fields: { vin } },
  });
  if (response.status !== 201) throw new Error(`task not filed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as { id: string; reference: string; status: string; ownerId?: string };
}

/** Redis stream ids (`ms-seq`) compare as number pairs. */
export function compareEventIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}
