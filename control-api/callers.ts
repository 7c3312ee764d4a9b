/**
 * Who is calling the control API, from what API Gateway's IAM authorization puts
 * in the request (`requestContext.authorizer.iam`), and what they may act on.
 * A role's session calls as `arn:aws:sts::{account}:assumed-role/{name}/{session}`;
 * its role is `arn:aws:iam::{account}:role/{path}{name}`, and a session's ARN
 * carries no path, so roles are matched by account and name.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */

export interface Caller {
  /** The caller's own ARN: a role session's names the person or program in its session name. */
  readonly arn: string;
  readonly admin: boolean;
  /** The tenant whose role the caller acts as, if any. */
  readonly tenant?: string;
}

/** Who may call, as the deployment names them (control-api/config.ts). */
export interface Principals {
  /** Each tenant's role ARN, and its tenant. */
  readonly tenantRoles: Readonly<Record<string, string>>;
  /** Role or user ARNs with every permission. */
  readonly admins: readonly string[];
}

/** A principal's identity for matching: `{account}:role/{name}` for a role or a role's session, the ARN itself otherwise. */
export function principalKey(arn: string): string {
  const session = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  if (session) return `${session[1]}:role/${session[2]}`;
  const role = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (role) return `${role[1]}:role/${role[2]}`;
  return arn;
}

/** The caller behind a signed request's ARN. */
export function identifyCaller(userArn: string, principals: Principals): Caller {
  const key = principalKey(userArn);
  const admin = principals.admins.some((arn) => principalKey(arn) === key);
  const tenant = Object.entries(principals.tenantRoles).find(([arn]) => principalKey(arn) === key)?.[1];
  return { arn: userArn, admin, ...(tenant ? { tenant } : {}) };
}

/** Whether the caller may act on a tenant's images: its own tenant, or any as an admin. */
export function mayActOn(caller: Caller, tenant: string): boolean {
  return caller.admin || caller.tenant === tenant;
}
