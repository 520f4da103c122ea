import { Router } from 'express';
import { anyUserRole, frontLineRoles, supervisorRoles } from '../platform/http/principal';
import { z } from 'zod';
import type { RouteRegistry } from '../platform/http/route';
import type { CustomerService } from './customer.service';
import {
  addIdentifiersBody,
  createCustomerBody,
  customerIdParams,
  customerSchema,
  mergeBody,
  searchCustomersQuery,
  updateCustomerBody,
} from './customer.schemas';


export function customerRoutes(registry: RouteRegistry, customers: CustomerService): Router {
  const router = Router();
  const tag = 'Customers';

  registry.add(router, { method: 'get', path: '/api/customers', summary: 'Find customers by phone, email or name', tag, access: anyUserRole, query: searchCustomersQuery, response: z.object({ items: z.array(customerSchema) }) },
    async ({ query }) => ({ items: await customers.search(query) }));

  registry.add(router, { method: 'post', path: '/api/customers', summary: 'Create a customer with its phone numbers and emails', tag, access: frontLineRoles, body: createCustomerBody, response: customerSchema, successStatus: 201 },
    ({ body }) => customers.createCustomer(body));

  registry.add(router, { method: 'get', path: '/api/customers/:id', summary: 'Get a customer (a tombstone carries mergedInto)', tag, access: anyUserRole, params: customerIdParams, response: customerSchema },
    ({ params }) => customers.getCustomer(params.id));

  registry.add(router, { method: 'patch', path: '/api/customers/:id', summary: 'Change name, tier, tags or attributes', tag, access: frontLineRoles, params: customerIdParams, body: updateCustomerBody, response: customerSchema },
    ({ params, body }) => customers.updateCustomer(params.id, body));

  registry.add(router, { method: 'post', path: '/api/customers/:id/identifiers', summary: 'Add phone numbers or emails to a customer', tag, access: frontLineRoles, params: customerIdParams, body: addIdentifiersBody, response: customerSchema },
    ({ params, body }) => customers.addIdentifiers(params.id, body));

  registry.add(router, { method: 'post', path: '/api/customers/:id/merge', summary: 'Merge a duplicate customer into this one', tag, access: supervisorRoles, params: customerIdParams, body: mergeBody, response: customerSchema },
    ({ params, body }) => customers.mergeCustomers(params.id, body.fromCustomerId));

  return router;
}
