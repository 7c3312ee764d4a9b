import { parse, type Node } from 'acorn';
import { full } from 'acorn-walk';

/**
 * Holds code to the cloudfront-js-2.0 feature set. Node runs far more syntax than
 * CloudFront does, so a bundle that works in a vm proves little on its own.
 *
 * The authority is "JavaScript runtime 2.0 features for CloudFront Functions":
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html
 * It lists ES 5.1, const/let, arrow functions, rest parameters, template literals,
 * `**`, and async/await in async functions only ("async arguments and closures are
 * not supported"). Anything it does not name is rejected here.
 */
const ALLOWED_NODES = new Set([
  'Program', 'ImportDeclaration', 'ImportDefaultSpecifier', 'VariableDeclaration', 'VariableDeclarator',
  'Identifier', 'Literal', 'FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression',
  'BlockStatement', 'ExpressionStatement', 'ReturnStatement', 'IfStatement', 'ForStatement',
  'ForInStatement', 'WhileStatement', 'DoWhileStatement', 'BreakStatement', 'ContinueStatement',
  'LabeledStatement', 'SwitchStatement', 'SwitchCase', 'ThrowStatement', 'TryStatement', 'CatchClause',
  'EmptyStatement', 'SequenceExpression', 'AssignmentExpression', 'BinaryExpression', 'LogicalExpression',
  'UnaryExpression', 'UpdateExpression', 'ConditionalExpression', 'CallExpression', 'NewExpression',
  'MemberExpression', 'ObjectExpression', 'Property', 'ArrayExpression', 'ThisExpression',
  'TemplateLiteral', 'TemplateElement', 'AwaitExpression', 'RestElement',
]);

const ALLOWED_IMPORTS = new Set(['cloudfront', 'crypto']);
const ES5_ASSIGNMENT = new Set(['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '>>>=', '|=', '^=', '&=']);

export interface SyntaxViolation {
  readonly message: string;
  readonly offset: number;
}

type AnyNode = Node & { [field: string]: any };

/** Every construct in `code` outside cloudfront-js-2.0; empty when the code fits. */
export function findRuntimeViolations(code: string): SyntaxViolation[] {
  const violations: SyntaxViolation[] = [];
  const report = (node: Node, message: string) => violations.push({ message: message, offset: node.start });
  let ast: Node;
  try {
    ast = parse(code, { ecmaVersion: 2022, sourceType: 'module' });
  } catch (error) {
    return [{ message: 'does not parse: ' + (error as Error).message, offset: 0 }];
  }
  const topLevel = new Set((ast as AnyNode).body as Node[]);

  full(ast, (raw) => {
    const node = raw as AnyNode;
    if (!ALLOWED_NODES.has(node.type)) return report(node, node.type + ' is not supported');
    switch (node.type) {
      case 'ImportDeclaration':
        if (!ALLOWED_IMPORTS.has(node.source.value)) report(node, "import of '" + node.source.value + "'");
        break;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        if (node.generator) report(node, 'generators are not supported');
        if (node.async && !(node.type === 'FunctionDeclaration' && topLevel.has(node))) {
          report(node, 'async is supported on top-level function declarations only');
        }
        for (const param of node.params) {
          const ok = param.type === 'Identifier' || (param.type === 'RestElement' && param.argument.type === 'Identifier');
          if (!ok) report(param, 'default or destructured parameters are not supported');
        }
        break;
      case 'VariableDeclarator':
        if (node.id.type !== 'Identifier') report(node, 'destructuring is not supported');
        break;
      case 'Property':
        if (node.shorthand || node.method || node.computed) report(node, 'ES 6 object literal extensions are not supported');
        break;
      case 'AssignmentExpression':
        if (!ES5_ASSIGNMENT.has(node.operator)) report(node, node.operator + ' is not supported');
        if (node.left.type !== 'Identifier' && node.left.type !== 'MemberExpression') {
          report(node, 'destructuring assignment is not supported');
        }
        break;
      case 'LogicalExpression':
        if (node.operator === '??') report(node, '?? is not supported');
        break;
      case 'MemberExpression':
      case 'CallExpression':
        if (node.optional) report(node, 'optional chaining is not supported');
        break;
      case 'CatchClause':
        if (!node.param) report(node, 'a catch clause needs a binding');
        break;
      case 'Literal':
        if (node.regex && /[^gimy]/.test(node.regex.flags)) report(node, 'regular expression flags ' + node.regex.flags);
        if (typeof node.bigint === 'string') report(node, 'BigInt literals are not supported');
        break;
      case 'ForInStatement':
        if (node.left.type === 'VariableDeclaration' && node.left.declarations[0].id.type !== 'Identifier') {
          report(node, 'destructuring is not supported');
        }
        break;
    }
  });
  return violations;
}
