/**
 * Renders markdown-parse.ts's tree as React elements: user text only ever becomes text nodes, and
 * links open outside the app (Electron sends https links to the user's browser).
 */

import { Fragment, type ReactNode } from 'react';
import { type Block, type Inline, parseMarkdown } from './markdown-parse.js';

function renderInline(nodes: readonly Inline[]): ReactNode[] {
  return nodes.map((node, i) => {
    switch (node.type) {
      case 'text':
        return <Fragment key={i}>{node.text}</Fragment>;
      case 'code':
        return <code key={i}>{node.text}</code>;
      case 'em':
        return <em key={i}>{renderInline(node.children)}</em>;
      case 'strong':
        return <strong key={i}>{renderInline(node.children)}</strong>;
      case 'link':
        return (
          <a key={i} href={node.href} target="_blank" rel="noopener noreferrer">
            {renderInline(node.children)}
          </a>
        );
      default:
        return node satisfies never;
    }
  });
}

function renderBlocks(blocks: readonly Block[]): ReactNode[] {
  return blocks.map((block, i) => {
    switch (block.type) {
      case 'heading': {
        const Tag = `h${block.level}` as const;
        return <Tag key={i}>{renderInline(block.children)}</Tag>;
      }
      case 'paragraph':
        return <p key={i}>{renderInline(block.children)}</p>;
      case 'code':
        return (
          <pre key={i} data-language={block.language || undefined}>
            <code>{block.text}</code>
          </pre>
        );
      case 'list': {
        const items = block.items.map((item, j) => <li key={j}>{renderBlocks(item)}</li>);
        return block.ordered ? (
          <ol key={i} start={block.start}>
            {items}
          </ol>
        ) : (
          <ul key={i}>{items}</ul>
        );
      }
      case 'quote':
        return <blockquote key={i}>{renderBlocks(block.children)}</blockquote>;
      case 'rule':
        return <hr key={i} />;
      default:
        return block satisfies never;
    }
  });
}

export function Markdown({ source }: { source: string }) {
  return <div className="wg-md">{renderBlocks(parseMarkdown(source))}</div>;
}
