/**
 * The distribution as a viewer reaches it: where a takedown is verified
 * (tasks/shared/http-viewer-edge.ts in a deployment).
 */
export interface ViewerEdge {
  /**
   * The HTTP status the edge answers a viewer's GET of `path` (with its query) with.
   * @throws {PictorError} OriginUnavailable when the edge does not answer
   */
  status(path: string): Promise<number>;
}
