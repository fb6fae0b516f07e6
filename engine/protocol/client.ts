/**
 * The UI side of the engine protocol, independent of how messages travel: `EngineClient` numbers
 * requests, matches answers to them by id, and cancels a superseded graph check. A transport
 * carries the messages: a Web Worker in the app (renderer/engine/worker-client.ts), or a direct
 * call into the worker's request handler in tests (engine/worker/in-process.ts). Both sides
 * therefore run the same bookkeeping.
 */

import type { DraftGraph, EngineRequest, EngineResponse, GraphCheck, OpInfo } from './messages.js';

/** Carries requests to the engine and its answers back. */
export interface EngineTransport {
  post(request: EngineRequest): void;
  /** Calls `handler` with every answer until `close`. */
  listen(handler: (response: EngineResponse) => void): void;
  /** Called when the transport itself fails (the worker did not load …). */
  onFailure(handler: (message: string) => void): void;
  close(): void;
}

interface Pending {
  readonly resolve: (response: EngineResponse) => void;
  readonly reject: (error: Error) => void;
}

/** Answers that mean "no result": cancelled requests resolve with this instead of throwing. */
export const SUPERSEDED = null;

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private latestCheck: number | null = null;
  private failure: string | null = null;

  constructor(private readonly transport: EngineTransport) {
    transport.listen((response) => this.receive(response));
    transport.onFailure((message) => this.fail(message));
  }

  /** Every op the engine knows, with ports, attribute specs, docs and a category. */
  async listOps(): Promise<readonly OpInfo[]> {
    const response = await this.request((id) => ({ type: 'listOps', id }));
    if (response.type !== 'listOps') throw this.unexpected(response, 'listOps');
    return response.ops;
  }

  /**
   * Shapes and diagnostics of a (possibly mid-edit) document. A later call supersedes this
   * one: if it has not been answered by then, it is cancelled and resolves with null.
   */
  async checkGraph(graph: DraftGraph): Promise<GraphCheck | null> {
    const previous = this.latestCheck;
    const response = await this.request((id) => {
      this.latestCheck = id;
      if (previous !== null) this.cancel(previous);
      return { type: 'checkGraph', id, graph };
    });
    if (response.type === 'cancelled') return SUPERSEDED;
    if (response.type !== 'checkGraph') throw this.unexpected(response, 'checkGraph');
    return response.result;
  }

  /** Requests still waiting for an answer (for tests and the status bar). */
  get pendingCount(): number {
    return this.pending.size;
  }

  close(): void {
    this.fail('the engine client was closed');
    this.transport.close();
  }

  private request(make: (id: number) => EngineRequest): Promise<EngineResponse> {
    if (this.failure !== null) return Promise.reject(new Error(this.failure));
    const id = this.nextId++;
    const promise = new Promise<EngineResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    this.transport.post(make(id));
    return promise;
  }

  /** Resolves the request as cancelled at once and tells the engine to drop it. */
  private cancel(id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    pending.resolve({ type: 'cancelled', id });
    this.transport.post({ type: 'cancel', id });
  }

  private receive(response: EngineResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return; // answered already (cancelled on this side)
    this.pending.delete(response.id);
    if (this.latestCheck === response.id) this.latestCheck = null;
    if (response.type === 'failed') pending.reject(new Error(`engine: ${response.message}`));
    else pending.resolve(response);
  }

  private fail(message: string): void {
    this.failure = message;
    for (const { reject } of this.pending.values()) reject(new Error(message));
    this.pending.clear();
  }

  private unexpected(response: EngineResponse, expected: string): Error {
    return new Error(`engine answered '${response.type}' to a '${expected}' request`);
  }
}
