/**
 * The autodiff teacher's public surface: record a lesson from a graph or function, then step
 * through it forward and backward with the chain-rule numbers (see teacher.ts).
 */

export {
  recordLesson,
  teachValue,
  type BackwardStep,
  type Contribution,
  type InputGradient,
  type Lesson,
  type LessonOptions,
  type LessonStep,
  type TeachValue,
} from './lesson.js';
export {
  Teacher,
  teachState,
  type TeachGradient,
  type TeachOperand,
  type TeachPhase,
  type TeachState,
} from './teacher.js';
