export { DepartmentService, type Department, type DepartmentChanges } from './department.service';
export { departmentRoutes } from './department.routes';
export type { BusinessHours, TaskType, TaskTypeField, TaskTypeTemplates } from './department.model';
export * from './task.contracts';
export { TaskRepository } from './task.repository';
export { TaskService, raisedPriority, type FileTaskInput, type TransitionInput, type TaskQuery, type TaskUsers } from './task.service';
export type { TransitionAction } from './task.lifecycle';
