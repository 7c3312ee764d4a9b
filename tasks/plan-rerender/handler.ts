import { awsClients } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { storeTenants } from '../shared/store-tenants.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { planRerender, PlanInput } from './plan-rerender.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const tenants = storeTenants(config);
  const settings = { pageSize: config.rerenderPageSize, pagesPerExecution: config.rerenderPagesPerExecution };
  // Pure: safe to repeat.
  return defineTask({ name: 'plan-rerender', input: PlanInput, run: async (input) => planRerender(input, { tenants: await tenants.all() }, settings) }, config, awsClients(config));
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
