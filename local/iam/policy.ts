/**
 * The twin's IAM policy evaluation, for the requests it authorizes: the parts of
 * AWS's policy language Pictor's templates use, evaluated as AWS documents it.
 * Within one account an explicit Deny in any policy wins; otherwise an Allow in
 * the caller's identity policies, or in the resource's policy naming the caller,
 * allows; anything else is an implicit deny.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

export type ConditionValue = string | readonly string[];

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  /** Resource policies only. */
  readonly Principal?: '*' | { readonly AWS?: string | readonly string[]; readonly Service?: string | readonly string[] };
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, ConditionValue | boolean>>>>;
}

/** Who is asking: an IAM role (its sessions carry the role's ARN as aws:PrincipalArn) or user. */
export interface Principal {
  readonly arn: string;
  readonly account: string;
}

export interface AuthorizationRequest {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  /** The request's condition keys (aws:PrincipalArn and aws:PrincipalAccount are added). */
  readonly context?: Readonly<Record<string, ConditionValue>>;
}

export type Decision = { readonly effect: 'Allow' } | { readonly effect: 'Deny'; readonly explicit: boolean; readonly statement?: PolicyStatement };

export interface Policies {
  /** The caller's identity-based policies' statements. */
  readonly identity: readonly PolicyStatement[];
  /** The resource's policy, when it has one. */
  readonly resource?: readonly PolicyStatement[];
}

/** Evaluates a request as IAM does for a caller and a resource in the same account. */
export function authorize(request: AuthorizationRequest, policies: Policies): Decision {
  const context: Record<string, ConditionValue> = {};
  for (const [key, value] of Object.entries(request.context ?? {})) context[key.toLowerCase()] = value;
  context['aws:principalarn'] ??= request.principal.arn;
  context['aws:principalaccount'] ??= request.principal.account;
  const applies = (statement: PolicyStatement, inResourcePolicy: boolean) =>
    actionMatches(statement, request.action) &&
    resourceMatches(statement, request.resource) &&
    (!inResourcePolicy || principalMatches(statement, request.principal, statement.Effect)) &&
    conditionsHold(statement, context);
  const all = [...policies.identity.map((s) => [s, false] as const), ...(policies.resource ?? []).map((s) => [s, true] as const)];
  const denied = all.find(([s, inResource]) => s.Effect === 'Deny' && applies(s, inResource));
  if (denied) return { effect: 'Deny', explicit: true, statement: denied[0] };
  if (all.some(([s, inResource]) => s.Effect === 'Allow' && applies(s, inResource))) return { effect: 'Allow' };
  return { effect: 'Deny', explicit: false };
}

const list = (value: string | readonly string[] | undefined): readonly string[] => (value === undefined ? [] : typeof value === 'string' ? [value] : value);

/** IAM's wildcards: `*` any run of characters, `?` one. */
function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/** Action names are case-insensitive. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html */
function actionMatches(statement: PolicyStatement, action: string): boolean {
  if (statement.NotAction !== undefined) return !list(statement.NotAction).some((a) => wildcard(a, action, true));
  return list(statement.Action).some((a) => wildcard(a, action, true));
}

function resourceMatches(statement: PolicyStatement, resource: string): boolean {
  if (statement.NotResource !== undefined) return !list(statement.NotResource).some((r) => wildcard(r, resource, false));
  return list(statement.Resource ?? '*').some((r) => wildcard(r, resource, false));
}

/**
 * A resource policy's Principal. An account (or its root) named in an Allow only
 * delegates to that account's IAM policies, so it allows no one by itself; in a
 * Deny it covers every principal of the account.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 */
function principalMatches(statement: PolicyStatement, principal: Principal, effect: 'Allow' | 'Deny'): boolean {
  if (statement.Principal === undefined) return false;
  if (statement.Principal === '*') return true;
  return list(statement.Principal.AWS).some((named) => {
    if (named === '*') return true;
    const account = /^\d{12}$/.test(named) ? named : /^arn:[^:]+:iam::(\d{12}):root$/.exec(named)?.[1];
    if (account !== undefined) return effect === 'Deny' && account === principal.account;
    return named === principal.arn;
  });
}

/**
 * Every operator must hold, and for each key any of its values (all of them, for a
 * negated operator). A key absent from the request fails every operator but the
 * negated ones, `...IfExists` and `Null`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
function conditionsHold(statement: PolicyStatement, context: Readonly<Record<string, ConditionValue>>): boolean {
  for (const [operatorName, keys] of Object.entries(statement.Condition ?? {})) {
    const [qualifier, bare] = operatorName.includes(':') ? (operatorName.split(':') as [string, string]) : [undefined, operatorName];
    const ifExists = bare.endsWith('IfExists');
    const operator = ifExists ? bare.slice(0, -'IfExists'.length) : bare;
    for (const [key, expected] of Object.entries(keys)) {
      const present = context[key.toLowerCase()];
      if (operator === 'Null') {
        if ((present === undefined) !== (String(expected) === 'true')) return false;
        continue;
      }
      const wanted = typeof expected === 'boolean' ? [String(expected)] : list(expected);
      const negated = operator.includes('Not');
      if (present === undefined) {
        // ForAllValues holds over an empty set.
        if (ifExists || negated || qualifier === 'ForAllValues') continue;
        return false;
      }
      const values = list(present);
      const one = (value: string) => compare(operator, wanted, value);
      const holds =
        qualifier === 'ForAllValues' ? values.every(one) : qualifier === 'ForAnyValue' ? values.some(one) : negated ? values.every(one) : values.some(one);
      if (!holds) return false;
    }
  }
  return true;
}

function compare(operator: string, wanted: readonly string[], value: string): boolean {
  switch (operator) {
    case 'StringEquals':
      return wanted.includes(value);
    case 'StringNotEquals':
      return !wanted.includes(value);
    case 'StringEqualsIgnoreCase':
      return wanted.some((w) => w.toLowerCase() === value.toLowerCase());
    case 'StringNotEqualsIgnoreCase':
      return !wanted.some((w) => w.toLowerCase() === value.toLowerCase());
    // ArnEquals and ArnLike alike take wildcards.
    case 'StringLike':
    case 'ArnEquals':
    case 'ArnLike':
      return wanted.some((w) => wildcard(w, value, false));
    case 'StringNotLike':
    case 'ArnNotEquals':
    case 'ArnNotLike':
      return !wanted.some((w) => wildcard(w, value, false));
    case 'Bool':
      return wanted.some((w) => w.toLowerCase() === value.toLowerCase());
    default:
      // A deployment with an operator the twin does not know would be evaluated by AWS; refuse to guess.
      throw new Error(`The twin does not evaluate the condition operator ${operator}; add it to local/iam/policy.ts.`);
  }
}
