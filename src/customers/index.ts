export { CustomerService, toCustomer, type Customer, type CustomerMergeListener } from './customer.service';
export { CustomerRepository } from './customer.repository';
export { customerRoutes } from './customer.routes';
export { customerTiers, type CustomerTier } from './customer.model';
export { normalizePhone, normalizeEmail } from './identity';
