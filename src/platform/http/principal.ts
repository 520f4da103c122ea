/** Who is calling: a logged-in user or an integration's API key. Set by the auth middleware. */
export const roles = ['admin', 'supervisor', 'agent', 'department', 'integration'] as const;
export type Role = (typeof roles)[number];
/** Roles a person can have; `integration` is for API keys only (ERP, dealer systems). */
export const userRoles = ['admin', 'supervisor', 'agent', 'department'] as const satisfies readonly Role[];
export type UserRole = (typeof userRoles)[number];

export interface Principal {
  // 'anonymous' only reaches handlers of public routes, which never look at the role.
  kind: 'user' | 'api_key' | 'anonymous';
  id: string;
  role: Role;
  departmentId?: string;
  /** An API key limited to these departments: it files, reads, lists and changes only their tasks. */
  departmentIds?: readonly string[];
  name: string;
}

/** Role sets the routes share, so "who may do this" reads the same everywhere. */
export const anyRole: readonly Role[] = roles;
/** Any signed-in person; integrations are granted route by route. */
export const anyUserRole: readonly Role[] = userRoles;
/** People who talk to customers (and their supervisors and admins). */
export const frontLineRoles: readonly Role[] = ['admin', 'supervisor', 'agent'];
export const supervisorRoles: readonly Role[] = ['admin', 'supervisor'];
