/**
 * Copy, cut and paste of canvas nodes through the system clipboard, so nodes copied in one
 * window paste into another (as a JSON fragment, state/clipboard.ts). The asynchronous
 * clipboard API may be refused (no permission, page not focused, an older browser): then the
 * editor's own buffer still holds the copy and paste uses it, so copy and paste within the
 * window always work. Text on the clipboard that is not a fragment gives a short message,
 * never an exception. The DOM `copy`/`cut`/`paste` events (which the desktop menu's Edit
 * items fire) go through the same functions with the event's own clipboard data.
 */

import {
  ClipboardError,
  looksLikeFragment,
  parseFragment,
  serializeFragment,
} from '../state/clipboard.js';
import type { Editor } from '../state/editor.js';

/** The part of `navigator.clipboard` used here (tests pass their own). */
export interface TextClipboard {
  writeText(text: string): Promise<void>;
  readText(): Promise<string>;
}

function browserClipboard(): TextClipboard | null {
  return typeof navigator !== 'undefined' && navigator.clipboard ? navigator.clipboard : null;
}

export class CanvasClipboard {
  /** Whether the last copy reached the system clipboard (if not, paste prefers the buffer). */
  private systemHasCopy = false;

  constructor(
    private readonly editor: Editor,
    private readonly system: TextClipboard | null = browserClipboard(),
  ) {}

  /** The selected nodes as fragment text, kept in the editor's buffer too; null if none. */
  private copyText(): string | null {
    const fragment = this.editor.copy();
    return fragment ? serializeFragment(fragment) : null;
  }

  /** Copies the selection; resolves whether anything was copied. */
  async copy(): Promise<boolean> {
    const text = this.copyText();
    if (text === null) return false;
    this.systemHasCopy = false;
    if (this.system)
      try {
        await this.system.writeText(text);
        this.systemHasCopy = true;
      } catch {
        // Refused: the editor's buffer keeps the copy for pastes in this window.
      }
    return true;
  }

  async cut(): Promise<boolean> {
    if (!(await this.copy())) return false;
    return this.editor.deleteSelection();
  }

  /** Pastes what the system clipboard holds, or the editor's buffer when it cannot be read. */
  async paste(): Promise<boolean> {
    let text: string | null = null;
    if (this.system)
      try {
        text = await this.system.readText();
      } catch {
        text = null;
      }
    if (text !== null && looksLikeFragment(text)) return this.pasteText(text);
    // Unreadable, or the last copy never got there: the buffer is the freshest copy we know.
    if ((text === null || !this.systemHasCopy) && this.editor.paste()) return true;
    if (text === null) {
      this.editor.notify('Nothing to paste: copy some nodes first.');
      return false;
    }
    return this.pasteText(text);
  }

  /** Pastes fragment text (from the clipboard or a paste event); says why when it cannot. */
  pasteText(text: string): boolean {
    try {
      return this.editor.paste(parseFragment(text));
    } catch (error) {
      const message =
        error instanceof ClipboardError ? error.message : 'The clipboard could not be pasted.';
      this.editor.notify(message);
      return false;
    }
  }

  /** For a DOM `copy`/`cut` event: puts the selection on the event's clipboard data. */
  copyToEvent(event: ClipboardEvent): boolean {
    const text = this.copyText();
    if (text === null || !event.clipboardData) return false;
    event.clipboardData.setData('text/plain', text);
    event.preventDefault();
    this.systemHasCopy = true;
    return true;
  }
}

const clipboards = new WeakMap<Editor, CanvasClipboard>();

/** The clipboard of an editor (one per editor, made on first use). */
export function canvasClipboard(editor: Editor): CanvasClipboard {
  let clipboard = clipboards.get(editor);
  if (!clipboard) {
    clipboard = new CanvasClipboard(editor);
    clipboards.set(editor, clipboard);
  }
  return clipboard;
}
