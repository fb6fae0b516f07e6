/**
 * Lets Monaco style itself under the app's Content Security Policy, which allows no inline
 * styles (`style-src 'self'`, no 'unsafe-inline'). Monaco writes styles two ways the policy
 * blocks, and this module turns both into CSSOM calls, which the policy permits:
 *
 * - HTML strings with `style="…"` attributes (view lines, line numbers), which Monaco passes
 *   through a Trusted Types policy it asks `MonacoEnvironment` for: the policy here renames the
 *   attribute to `data-wg-style`, and a MutationObserver moves each one into `element.style`
 *   before the next paint.
 * - `<style>` elements with text (the theme's token colours): each one Monaco adds (it marks
 *   them `media="screen"`) is mirrored into a constructed stylesheet adopted by the document.
 *
 * Only markup that Monaco's own policy produced and style elements Monaco created are touched;
 * the rest of the page stays under the policy as it is.
 */

const STYLE_ATTRIBUTE = 'data-wg-style';

interface PolicyOptions {
  createHTML?: (value: string) => string;
  createScript?: (value: string) => string;
  createScriptURL?: (value: string) => string;
}

/** The hook Monaco calls for each Trusted Types policy it needs. */
export function createTrustedTypesPolicy(
  _name: string,
  options: PolicyOptions,
): PolicyOptions & { readonly name: string } {
  const createHTML = options.createHTML;
  return {
    name: _name,
    ...options,
    ...(createHTML
      ? {
          createHTML: (value: string) =>
            createHTML(value).replace(/(<[^>]*?\s)style="/g, `$1${STYLE_ATTRIBUTE}="`),
        }
      : {}),
  };
}

function applyMovedStyles(root: ParentNode): void {
  const elements = root.querySelectorAll<HTMLElement>(`[${STYLE_ATTRIBUTE}]`);
  for (const el of elements) {
    el.style.cssText = el.getAttribute(STYLE_ATTRIBUTE) ?? '';
    el.removeAttribute(STYLE_ATTRIBUTE);
  }
}

const mirrored = new Map<HTMLStyleElement, CSSStyleSheet>();

function isMonacoStyle(node: Node): node is HTMLStyleElement {
  return node instanceof HTMLStyleElement && node.media === 'screen';
}

function mirror(style: HTMLStyleElement): void {
  let sheet = mirrored.get(style);
  if (!sheet) {
    sheet = new CSSStyleSheet();
    mirrored.set(style, sheet);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }
  sheet.replaceSync(style.textContent ?? '');
}

function unmirror(style: HTMLStyleElement): void {
  const sheet = mirrored.get(style);
  if (!sheet) return;
  mirrored.delete(style);
  document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
}

let installed = false;

/** Starts moving Monaco's inline styles into CSSOM (once per page). */
export function installMonacoStyleBridge(): void {
  if (installed) return;
  installed = true;
  for (const style of document.querySelectorAll('style')) if (isMonacoStyle(style)) mirror(style);
  new MutationObserver((records) => {
    for (const record of records) {
      const target = record.target;
      if (target.parentNode && isMonacoStyle(target.parentNode)) mirror(target.parentNode);
      if (isMonacoStyle(target)) mirror(target);
      for (const node of record.addedNodes) {
        if (isMonacoStyle(node)) mirror(node);
        else if (node instanceof Element) {
          if (node instanceof HTMLElement && node.hasAttribute(STYLE_ATTRIBUTE)) {
            node.style.cssText = node.getAttribute(STYLE_ATTRIBUTE) ?? '';
            node.removeAttribute(STYLE_ATTRIBUTE);
          }
          applyMovedStyles(node);
        }
      }
      for (const node of record.removedNodes) if (isMonacoStyle(node)) unmirror(node);
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
}
