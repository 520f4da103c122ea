export { DepartmentService, type Department } from './department.service';
export { departmentRoutes } from './department.routes';
