/**
 * The package's main entry (`import { ImageDelivery } from 'pictor'`): the
 * construct a CDK app adds, the types of its props, and the tenant configuration
 * it takes. The twin, the CLI and the tasks' internals are not part of it.
 */
export { ImageDelivery, ORIGIN_SHIELD_REGIONS, type ImageDeliveryProps } from './image-delivery.ts';
export type { CustomDomain, WafLimits } from './edge.ts';
export type { AlarmSubscribers } from './observability.ts';
export type { ControlApiDomains, ControlApiOptions } from './control-api.ts';
export type { ExistingTrail } from './pipeline-stack.ts';
export type { PipelineProps } from './pipeline.ts';
export { SOURCE_MAPS_CONTEXT } from './lambda-code.ts';
export { parseConfig, parseTenant, type PictorConfig, type TenantConfig } from '../core/tenant-config.ts';
export { PictorError } from '../core/errors.ts';
