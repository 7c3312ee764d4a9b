/** The twin's AWS account and region: what the synthesized templates' AWS::AccountId and AWS::Region resolve to. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
