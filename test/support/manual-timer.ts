import type { CompletionTimer } from '../../local/edge/invalidations.ts';

/**
 * A completion timer the test fires itself (InvalidationService's `timer`): what it holds
 * stays in progress however long the machine takes, until `fire()` completes it all.
 */
export function manualTimer(): { readonly timer: CompletionTimer; fire(): void; readonly pending: number } {
  const due = new Set<() => void>();
  return {
    timer: (complete) => {
      due.add(complete);
      return () => void due.delete(complete);
    },
    fire() {
      const now = [...due];
      due.clear();
      for (const complete of now) complete();
    },
    get pending() {
      return due.size;
    },
  };
}
