// A check of the Mermaid flowcharts in the docs, since no Mermaid parser is installed:
// each diagram keeps to plain flowchart syntax (a direction, quoted node labels in a
// few shapes, subgraphs, edges with optional quoted labels) and names only nodes it
// declares, so that a typo cannot turn into a stray node GitHub would draw.
// https://mermaid.js.org/syntax/flowchart.html

const ID = '[A-Za-z][A-Za-z0-9]*';
const LABEL = '"[^"]+"';
/** Node shapes used: rectangle, cylinder (a store), diamond (a choice), stadium. */
const SHAPES = [`\\[${LABEL}\\]`, `\\[\\(${LABEL}\\)\\]`, `\\{${LABEL}\\}`, `\\(\\[${LABEL}\\]\\)`];
const NODE = new RegExp(`^(${ID})(?:${SHAPES.join('|')})$`);
const SUBGRAPH = new RegExp(`^subgraph (${ID}) \\[${LABEL}\\]$`);
const ARROW = new RegExp(`\\s*(?:-->|-\\.->|==>)(?:\\|${LABEL}\\|)?\\s*`);
/** Words Mermaid reads as syntax; a node with such an id breaks the diagram. */
const RESERVED = new Set(['end', 'subgraph', 'graph', 'flowchart', 'style', 'class', 'classDef', 'click', 'call', 'linkStyle', 'direction', 'default']);

/** The ```mermaid blocks of a Markdown page. */
export function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

/** What is wrong with one diagram; empty when it keeps to the subset. */
export function mermaidProblems(diagram: string): string[] {
  const lines = diagram.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('%%'));
  const problems: string[] = [];
  if (!/^flowchart (LR|RL|TB|TD|BT)$/.test(lines[0] ?? '')) problems.push(`starts with '${lines[0]}', not 'flowchart LR' or another direction`);
  const declared = new Set<string>();
  const used: string[] = [];
  let depth = 0;
  for (const line of lines.slice(1)) {
    const subgraph = SUBGRAPH.exec(line);
    const node = NODE.exec(line);
    if (subgraph) {
      declared.add(subgraph[1]!);
      depth++;
    } else if (line === 'end') {
      if (--depth < 0) problems.push("an 'end' closes no subgraph");
    } else if (node) {
      if (declared.has(node[1]!)) problems.push(`${node[1]} is declared twice`);
      declared.add(node[1]!);
    } else if (ARROW.test(line)) {
      const ends = line.split(ARROW);
      for (const end of ends) {
        if (new RegExp(`^${ID}$`).test(end)) used.push(end);
        else problems.push(`'${end}' in '${line}' is not a node id (declare nodes on their own lines)`);
      }
    } else {
      problems.push(`'${line}' is outside the subset`);
    }
  }
  if (depth !== 0) problems.push(`${depth} subgraph(s) not closed with 'end'`);
  for (const id of [...declared, ...used]) if (RESERVED.has(id)) problems.push(`'${id}' is a Mermaid keyword`);
  for (const id of new Set(used)) if (!declared.has(id)) problems.push(`${id} is used in an edge but never declared`);
  return problems;
}
