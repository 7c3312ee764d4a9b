import { PictorError } from '../../core/errors.ts';
import type { ViewerEdge } from '../ports/viewer-edge.ts';

/**
 * The ViewerEdge port over HTTP: GETs `edgeUrl` + path as a viewer would,
 * following no redirect (a redirect is an answer, not a 404), reading no body
 * but its type: whose error it is.
 */
export function httpViewerEdge(edgeUrl: string, fetch: typeof globalThis.fetch = globalThis.fetch): ViewerEdge {
  return {
    async status(path) {
      try {
        const response = await fetch(edgeUrl + path, { redirect: 'manual', headers: { accept: '*/*' } });
        await response.body?.cancel();
        // Pictor's own errors are JSON; S3's, passed on through the distribution, are XML.
        const fromStorage = response.status >= 400 && /xml/i.test(response.headers.get('content-type') ?? '');
        return { status: response.status, ...(fromStorage ? { fromStorage } : {}) };
      } catch (error) {
        throw new PictorError('OriginUnavailable', `The edge at ${edgeUrl} did not answer.`, { cause: error });
      }
    },
  };
}
