import { resume, start } from './viewer-request.ts';

// The bundle's one export, declared by the build's banner and read by its handler.
// Assigning it beats esbuild's IIFE export helpers by about 600 bytes.
declare let pictor: { start: typeof start; resume: typeof resume };
pictor = { start: start, resume: resume };
