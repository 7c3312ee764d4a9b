import { FUNCTION_SIZE_QUOTA, VIEWER_FUNCTION_PATH, writeViewerFunction } from '../edge-fallback/viewer-request/build.ts';

// `npm run build:viewer`: writes dist/viewer-request.js, the file infra deploys and the twin runs.
const bundle = await writeViewerFunction();
console.log(`${VIEWER_FUNCTION_PATH}: ${bundle.bytes} bytes (quota ${FUNCTION_SIZE_QUOTA})`);
