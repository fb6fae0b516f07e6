/**
 * The lessons as a section of the toolbar's Templates menu: each opens its graph on the canvas
 * (one undoable edit), ready for the Learn tab's teacher.
 */

import { useEditor } from '../app/context.js';
import { LESSONS } from '../state/lessons.js';
import './teach.css';

export function LessonMenuItems({ onPick }: { onPick: () => void }) {
  const editor = useEditor();
  return (
    <>
      <div className="wg-menu__heading" role="presentation">
        Lessons · open the Learn tab to step through them
      </div>
      {LESSONS.map((l) => (
        <button
          key={l.name}
          type="button"
          role="menuitem"
          className="wg-menu__item"
          data-testid={`template-lesson-${l.name}`}
          onClick={() => {
            editor.load(l.build(), `Open lesson ${l.label}`);
            onPick();
          }}
        >
          <span className="wg-menu__label">{l.label}</span>
          <span className="wg-menu__hint">{l.description}</span>
        </button>
      ))}
    </>
  );
}
