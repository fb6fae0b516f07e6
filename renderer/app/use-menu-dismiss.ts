/**
 * Closes an open popup menu the ways people expect: Escape (focus goes back to the button that
 * opened it) or a press anywhere outside it. The press is caught in the capture phase, because
 * the canvas (React Flow) stops mousedown from bubbling and a bubbling listener never hears it.
 */

import { type RefObject, useEffect } from 'react';

export function useMenuDismiss(
  open: boolean,
  close: () => void,
  root: RefObject<HTMLElement | null>,
  button: RefObject<HTMLElement | null>,
): void {
  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent): void => {
      if (!root.current?.contains(event.target as Node)) close();
    };
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.key !== 'Escape') return;
      // The menu takes this Escape; the canvas does not also clear its selection.
      event.stopPropagation();
      close();
      button.current?.focus();
    };
    window.addEventListener('pointerdown', onPointerDown, true);
    window.addEventListener('keydown', onKeyDown, true);
    return () => {
      window.removeEventListener('pointerdown', onPointerDown, true);
      window.removeEventListener('keydown', onKeyDown, true);
    };
  }, [open, close, root, button]);
}
