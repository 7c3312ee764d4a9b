/**
 * The distribution as a viewer reaches it: where a takedown is verified
 * (tasks/shared/http-viewer-edge.ts in a deployment).
 */
export interface ViewerEdge {
  /**
   * How the edge answers a viewer's GET of `path` (with its query).
   * @throws {PictorError} OriginUnavailable when the edge does not answer
   */
  status(path: string): Promise<EdgeAnswer>;
}

export interface EdgeAnswer {
  readonly status: number;
  /**
   * The answer is the storage's own error (S3's XML), passed on by CloudFront, not
   * Pictor's: S3 answers 403 for a missing key through Origin Access Control when
   * the origin-request function could not check the bucket first.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
   */
  readonly fromStorage?: boolean;
}
