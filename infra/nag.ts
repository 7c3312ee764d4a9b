import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings (or CDK warnings) on a construct and everything
 * under it, each with the reason it is right here. A key is the finding as cdk-nag
 * names it (`AwsSolutions-IAM4`, `AwsSolutions-IAM5[Resource::*]`) or a CDK
 * warning (`Annotation::…`).
 */
export function acknowledge(scope: IConstruct, findings: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(findings)) {
    Validations.of(scope).acknowledge({ id: id.startsWith('AwsSolutions-') ? `AwsSolutions::${id}` : id, reason });
  }
}

/** Acknowledges AwsSolutions-IAM5 for each of these resource ARNs (those with a wildcard), for one reason. */
export function acknowledgeWildcards(scope: IConstruct, resources: readonly unknown[], reason: string): void {
  const findings: Record<string, string> = {};
  for (const resource of resources) {
    const rendered = inFinding(Stack.of(scope).resolve(resource));
    if (rendered.includes('*')) findings[`AwsSolutions-IAM5[Resource::${rendered}]`] = reason;
  }
  acknowledge(scope, findings);
}

/**
 * acknowledgeWildcards for resources that name another stack's: CDK turns those into
 * imports (cross-region ones into an ExportsReader's attributes) only as it prepares
 * the app, so they are rendered as cdk-nag sees them once that is done, before
 * cdk-nag runs (CDK validates the tree after preparing it, and runs policy plugins last).
 */
export function acknowledgeWildcardsOnceResolved(scope: IConstruct, resources: () => readonly unknown[], reason: string): void {
  scope.node.addValidation({
    validate: () => {
      acknowledgeWildcards(scope, resources(), reason);
      return [];
    },
  });
}

/** Every resource a policy document's statements name, resolved in the scope's stack. */
export function policyResources(scope: IConstruct, document: iam.PolicyDocument): unknown[] {
  const json = Stack.of(scope).resolve(document.toJSON()) as { Statement?: { Resource?: unknown }[] } | undefined;
  return (json?.Statement ?? []).flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : s.Resource ? [s.Resource] : []));
}

/** A resolved value as cdk-nag prints it: `<Ref>`, `<LogicalId.Attribute>`, joins flattened, other intrinsics as JSON. */
function inFinding(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, any>;
  if (object.Ref) return `<${object.Ref}>`;
  if (object['Fn::GetAtt']) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
  if (object['Fn::Join']) return (object['Fn::Join'][1] as unknown[]).map(inFinding).join(object['Fn::Join'][0]);
  return JSON.stringify(value);
}
