// docs/ERROR-CODES.md from core's error vocabulary; scripts/reference-docs.ts writes it
// (`npm run docs:reference`), and test/reference-docs.test.ts fails when the page and the code differ.
import { API_ERROR_CODES, PIPELINE_ERROR_CODES, REJECTION_ERRORS, RETRIED_ERRORS, SERVER_ERROR_CODES, VIEWER_ERROR_CODES, type ErrorCode } from '../core/error-codes.ts';
import { ERROR_DESCRIPTIONS } from '../core/error-descriptions.ts';
import { PictorError } from '../core/errors.ts';
import { logLevelOf } from '../core/log-level.ts';

const GROUPS: readonly { readonly title: string; readonly codes: Readonly<Record<string, { status: number; expose: boolean }>>; readonly who: string }[] = [
  { title: 'The viewer function', codes: VIEWER_ERROR_CODES, who: 'The CloudFront Function answers with these, as `{code, message}`, before any cache lookup.' },
  { title: 'The origin and the tasks', codes: SERVER_ERROR_CODES, who: 'The origin-request function answers with these (internal ones with a generic message); the tasks throw them.' },
  { title: 'The control API', codes: API_ERROR_CODES, who: 'The control-plane API answers with these as `{code, message}`, besides NotFound, OriginUnavailable and InternalError. API Gateway refuses an unsigned or unauthorized request itself, as `{"message": "Forbidden"}`.' },
  { title: 'The pipeline', codes: PIPELINE_ERROR_CODES, who: 'Only the state machines see these: their Retry and Catch match on the name. None is shown to a viewer.' },
];

function handling(code: ErrorCode): string {
  if (RETRIED_ERRORS.includes(code)) return 'retried';
  if (REJECTION_ERRORS.includes(code)) return 'quarantined on upload';
  return '';
}

/** The page, in Markdown: one table per group of codes. */
export function renderErrorReference(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from core/error-codes.ts and core/error-descriptions.ts by `npm run docs:reference`; do not edit. -->',
    '',
    'Every error Pictor answers with or throws has one of these codes. An edge answers `{"code": ..., "message": ...}`',
    'with the status below; a code that is not shown answers the generic message "The request could not be served."',
    'The log level is the one `core/log-level.ts` gives the code; only ERROR lines carry a stack.',
  ];
  for (const group of GROUPS) {
    lines.push('', `## ${group.title}`, '', group.who, '', '| code | status | shown | state machines | log level | meaning |', '| --- | --- | --- | --- | --- | --- |');
    for (const [name, { status, expose }] of Object.entries(group.codes)) {
      const code = name as ErrorCode;
      const level = logLevelOf(new PictorError(code, '')).toUpperCase();
      lines.push(`| \`${code}\` | ${status} | ${expose ? 'yes' : 'no'} | ${handling(code)} | ${level} | ${ERROR_DESCRIPTIONS[code]} |`);
    }
  }
  return lines.join('\n') + '\n';
}
