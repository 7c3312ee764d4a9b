/** The twin's AWS account and region: what the synthesized templates' AWS::AccountId and AWS::Region resolve to. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
/**
 * The account's administrator, whom the twin's fixed credentials sign as. The twin's
 * deployment names it among the control API's admins (`controlApi.admins`), as an
 * operator names their own user or role, so that the CLI needs no configuration.
 */
export const LOCAL_ADMIN_ARN = `arn:aws:iam::${LOCAL_ACCOUNT}:user/pictor-local-admin`;
