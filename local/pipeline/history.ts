import type { InterpreterEvent } from './interpreter-hooks.ts';
import { HISTORY_LIMIT_EVENTS, HistoryLimitError } from './limits.ts';

/**
 * What a state is, for its history: the interpreter's type, except for a Distributed
 * Map, which it runs as a Task stand-in, and whose own events are MapRun* ones.
 */
export type HistoryStateKind = 'Task' | 'Map' | 'DistributedMap' | 'Parallel' | 'Wait' | 'Pass' | 'Choice' | 'Succeed' | 'Fail';

/**
 * How many events of AWS's execution history one interpreter event stands for, by the
 * event types of GetExecutionHistory (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html):
 * - a Task: TaskStateEntered, then per attempt TaskScheduled, TaskStarted and
 *   TaskSucceeded/TaskFailed, then TaskStateExited;
 * - an inline Map: MapStateEntered, MapStateStarted, per iteration MapIterationStarted and
 *   MapIterationSucceeded/Failed with the iteration's own state events, MapStateSucceeded, MapStateExited;
 * - a Distributed Map: MapStateEntered, MapRunStarted, MapRunSucceeded/Failed, MapStateExited
 *   (its children keep histories of their own);
 * - a Parallel: ParallelStateEntered, ParallelStateStarted, the branches' state events,
 *   ParallelStateSucceeded, ParallelStateExited;
 * - Pass, Wait, Choice, Succeed: Entered and Exited; Fail: FailStateEntered;
 * - ExecutionStarted and ExecutionSucceeded/Failed.
 */
export function historyEventsOf(event: InterpreterEvent, kind: HistoryStateKind | undefined, nested: 'map' | 'parallel' | undefined): number {
  switch (event.type) {
    case 'ExecutionStarted':
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
      // At the root, the execution's own event; in an inline Map, the iteration's.
      return nested === 'parallel' ? 0 : 1;
    case 'StateEntered':
      return kind === 'Task' ? 3 : kind === 'Map' || kind === 'DistributedMap' || kind === 'Parallel' ? 2 : 1;
    case 'StateExited':
      return kind === 'Task' || kind === 'Map' || kind === 'DistributedMap' || kind === 'Parallel' ? 2 : 1;
    case 'StateFailed':
      return kind === 'Task' || kind === 'Map' || kind === 'DistributedMap' || kind === 'Parallel' ? 1 : 0;
    case 'StateRetried':
      return kind === 'Task' ? 2 : kind === 'Map' || kind === 'DistributedMap' || kind === 'Parallel' ? 1 : 0;
    case 'StateCaught':
      return 1;
    default:
      return 0;
  }
}

/**
 * One execution's history length. Once an event would be the 25,000th, the execution
 * fails instead, and its ExecutionFailed is event 25,000, as on AWS; every state event
 * after that fails again, so that nothing of the execution runs on.
 */
export class HistoryCounter {
  count = 0;
  private exhausted = false;

  add(events: number, event: InterpreterEvent, root: boolean): void {
    if (events === 0) return;
    const terminal = event.type === 'ExecutionFailed' || event.type === 'ExecutionSucceeded' || event.type === 'ExecutionStarted';
    if (this.exhausted) {
      if (!terminal) throw new HistoryLimitError();
      if (root && event.type === 'ExecutionFailed') this.count = HISTORY_LIMIT_EVENTS;
      return;
    }
    if (terminal) {
      this.count = Math.min(this.count + events, HISTORY_LIMIT_EVENTS);
      return;
    }
    if (this.count + events >= HISTORY_LIMIT_EVENTS) {
      // Room is left for the ExecutionFailed event only.
      this.count = HISTORY_LIMIT_EVENTS - 1;
      this.exhausted = true;
      throw new HistoryLimitError();
    }
    this.count += events;
  }
}
