import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ClosableWorker, closeWorker } from './worker-client.js';

/** A worker double that records what it is posted and when it is terminated. */
function fakeWorker() {
  const listeners: ((event: MessageEvent) => void)[] = [];
  const posted: unknown[] = [];
  let terminated = 0;
  const worker = {
    postMessage: (message: unknown) => void posted.push(message),
    terminate: () => void terminated++,
    addEventListener: (_type: string, listener: (event: MessageEvent) => void) =>
      void listeners.push(listener),
  } as unknown as ClosableWorker;
  const answer = (data: unknown) => {
    for (const l of listeners) l({ data } as MessageEvent);
  };
  return { worker, posted, answer, terminated: () => terminated };
}

describe('closing the engine worker', () => {
  afterEach(() => void vi.useRealTimers());

  it('posts worker/close and terminates once the worker answers worker/closed', () => {
    vi.useFakeTimers();
    const w = fakeWorker();
    closeWorker(w.worker, 2000);
    expect(w.posted).toEqual([{ type: 'worker/close' }]);
    w.answer({ type: 'train/progress' }); // other traffic does not end it
    expect(w.terminated()).toBe(0);
    w.answer({ type: 'worker/closed' });
    expect(w.terminated()).toBe(1);
    vi.advanceTimersByTime(5000); // the fallback timer was cleared
    expect(w.terminated()).toBe(1);
  });

  it('terminates a worker that does not answer after the grace period', () => {
    vi.useFakeTimers();
    const w = fakeWorker();
    closeWorker(w.worker, 2000);
    vi.advanceTimersByTime(1999);
    expect(w.terminated()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(w.terminated()).toBe(1);
  });
});
