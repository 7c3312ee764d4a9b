import { finish, policyKeyOf } from './viewer-response.ts';

// The bundle's one export, declared by the build's banner and read by its handler.
declare let pictor: { policyKeyOf: typeof policyKeyOf; finish: typeof finish };
pictor = { policyKeyOf: policyKeyOf, finish: finish };
