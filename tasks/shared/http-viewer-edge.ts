import { PictorError } from '../../core/errors.ts';
import type { ViewerEdge } from '../ports/viewer-edge.ts';

/**
 * The ViewerEdge port over HTTP: GETs `edgeUrl` + path as a viewer would,
 * following no redirect (a redirect is an answer, not a 404), reading no body.
 */
export function httpViewerEdge(edgeUrl: string, fetch: typeof globalThis.fetch = globalThis.fetch): ViewerEdge {
  return {
    async status(path) {
      try {
        const response = await fetch(edgeUrl + path, { redirect: 'manual', headers: { accept: '*/*' } });
        await response.body?.cancel();
        return response.status;
      } catch (error) {
        throw new PictorError('OriginUnavailable', `The edge at ${edgeUrl} did not answer.`, { cause: error });
      }
    },
  };
}
