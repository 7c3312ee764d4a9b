import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { buildSync } from 'esbuild';
import { JSDOM } from 'jsdom';
import { API_ERROR_CODES, PIPELINE_ERROR_CODES, SERVER_ERROR_CODES, VIEWER_ERROR_CODES } from '../core/error-codes.ts';
import { normalizeQuery, queryPairs } from '../core/normalize.ts';
import { ConfigSchema, parseConfig, policyOf } from '../core/tenant-config.ts';
import { DOCUMENTED_EVENTS, exampleOf, REFERENCE_PAGES, REGENERATE_COMMAND } from '../scripts/reference-docs.ts';
import { renderErrorReference } from '../scripts/error-reference.ts';
import { mermaidBlocks, mermaidProblems } from '../scripts/mermaid-subset.ts';
import { fieldRows, jsonSchemaOf } from '../scripts/schema-table.ts';

describe('the generated reference pages', () => {
  for (const page of REFERENCE_PAGES) {
    const name = page.path.split(/[\\/]/).slice(-2).join('/');
    it(`${name} is what the code generates`, () => {
      const committed = readFileSync(page.path, 'utf8');
      assert.ok(committed === page.render(), `${name} differs from what the code generates: run \`${REGENERATE_COMMAND}\` and commit it.`);
    });
  }
});

describe('docs/ERROR-CODES.md', () => {
  it('has one row per code, each with its status', () => {
    const page = renderErrorReference();
    for (const [code, { status }] of Object.entries({ ...VIEWER_ERROR_CODES, ...SERVER_ERROR_CODES, ...PIPELINE_ERROR_CODES, ...API_ERROR_CODES })) {
      const rows = page.split('\n').filter((line) => line.startsWith(`| \`${code}\` |`));
      assert.equal(rows.length, 1, code);
      assert.match(rows[0]!, new RegExp(`^\\| \`${code}\` \\| ${status} \\|`));
    }
  });
});

describe('docs/TENANT-CONFIG.md', () => {
  it('describes every field of the schema', () => {
    const rows = fieldRows(jsonSchemaOf(ConfigSchema));
    assert.ok(rows.some((row) => row.path === 'tenants.{tenant}.signing.maxTtl'), 'nested fields are listed');
    for (const row of rows) assert.ok(row.description.length > 0, `${row.path} has no description: add .meta({ description }) in core/tenant-config.ts`);
  });

  it('lists each default as the schema fills it in', () => {
    const maxTtl = fieldRows(jsonSchemaOf(ConfigSchema)).find((row) => row.path === 'tenants.{tenant}.signing.maxTtl')!;
    assert.equal(maxTtl.default, 86400);
    assert.equal(maxTtl.limits, '60 to 31536000');
  });

  it("keeps core/tenant-config.ts, and its descriptions, out of the viewer function's bundle", () => {
    const entry = fileURLToPath(new URL('../edge-fallback/viewer-request/function-entry.ts', import.meta.url));
    const { metafile } = buildSync({ entryPoints: [entry], bundle: true, write: false, format: 'iife', metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(metafile.inputs);
    assert.ok(inputs.some((path) => path.endsWith('core/normalize.ts')), 'the metafile lists the bundled modules');
    assert.ok(!inputs.some((path) => path.endsWith('core/tenant-config.ts')), 'the viewer function must not bundle core/tenant-config.ts');
  });
});

describe('docs/EVENTS.md', () => {
  for (const [detailType, schema] of Object.entries(DOCUMENTED_EVENTS)) {
    it(`"${detailType}" has a description and an example its schema accepts`, () => {
      assert.ok(jsonSchemaOf(schema).description, `${detailType} has no description: add .meta({ description }) to its schema`);
      const example = exampleOf(schema);
      const parsed = schema.safeParse(example);
      assert.ok(parsed.success, `${detailType}'s example does not fit its schema: ${parsed.error?.message}`);
      assert.deepEqual(parsed.data, example, 'the example is as the schema would pass it on');
    });
  }
});

describe('the Mermaid diagrams in docs/', () => {
  const pages = readdirSync(fileURLToPath(new URL('../docs/', import.meta.url))).filter((name) => name.endsWith('.md'));

  it('docs/ARCHITECTURE.md has diagrams', () => {
    assert.ok(mermaidBlocks(readFileSync(fileURLToPath(new URL('../docs/ARCHITECTURE.md', import.meta.url)), 'utf8')).length >= 4);
  });

  for (const name of pages) {
    it(`docs/${name} keeps to plain flowchart syntax and declares every node it links`, () => {
      const blocks = mermaidBlocks(readFileSync(fileURLToPath(new URL(`../docs/${name}`, import.meta.url)), 'utf8'));
      blocks.forEach((block, i) => assert.deepEqual(mermaidProblems(block), [], `diagram ${i + 1} of docs/${name}`));
    });
  }

  it("every diagram parses with Mermaid's own parser, the one GitHub renders with", async () => {
    // Mermaid sanitizes labels with DOMPurify, which needs a DOM: jsdom's, here.
    const { window } = new JSDOM('');
    Object.assign(globalThis, { window, document: window.document });
    const { default: mermaid } = await import('mermaid');
    await assert.rejects(mermaid.parse('flowchart LR\n  a["A" --> b'), /Parse error/);
    let parsed = 0;
    for (const name of pages) {
      const blocks = mermaidBlocks(readFileSync(fileURLToPath(new URL(`../docs/${name}`, import.meta.url)), 'utf8'));
      for (const [i, block] of blocks.entries()) {
        await assert.doesNotReject(mermaid.parse(block), `diagram ${i + 1} of docs/${name}`);
        parsed += 1;
      }
    }
    assert.ok(parsed >= 4, `${parsed} diagrams`);
  });

  it('finds what breaks a diagram', () => {
    assert.deepEqual(mermaidProblems('flowchart LR\n  a["A"]\n  a --> b'), ['b is used in an edge but never declared']);
    assert.deepEqual(mermaidProblems('flowchart LR\n  end["A"]'), ["'end' is a Mermaid keyword"]);
    assert.match(mermaidProblems('graph LR\n  a[A]').join('\n'), /not 'flowchart LR'/);
    assert.match(mermaidProblems('flowchart LR\n  a[A]').join('\n'), /outside the subset/);
    assert.match(mermaidProblems('flowchart LR\n  subgraph s ["S"]\n  a["A"]').join('\n'), /not closed/);
    assert.match(mermaidProblems('flowchart LR\n  a["A"]\n  a -->|"x"| a["A"]').join('\n'), /not a node id/);
  });
});

describe('docs/URLS.md', () => {
  const page = readFileSync(fileURLToPath(new URL('../docs/URLS.md', import.meta.url)), 'utf8');

  it("shows each worked example as core's normalizer makes it, for a tenant on the defaults", () => {
    const policy = policyOf(parseConfig({ tenants: { shop: {} } }).tenants.shop!);
    const section = page.slice(page.indexOf('### The canonical query'), page.indexOf('## Versioned and unversioned URLs'));
    const rows = section.split('\n').filter((line) => /^\| (`|\(none\))/.test(line));
    assert.ok(rows.length >= 6, 'the table of worked examples is found');
    for (const row of rows) {
      const [query, accept, canonical] = row.split(' | ').map((cell) => cell.replace(/^\| /, '').replace(/ \|$/, '').replace(/`/g, ''));
      const header = accept === 'none' || accept === 'any' ? undefined : accept;
      const result = normalizeQuery(queryPairs(query === '(none)' ? '' : query!), policy, header);
      assert.ok(result.ok, row);
      assert.equal(result.normalized.query, canonical, `${row}: update docs/URLS.md`);
    }
  });
});
