package org.sqlflow.playground.cluster;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.sqlflow.playground.error.PlaygroundError;

/**
 * One wait per key shared by every caller waiting on it: the first caller starts it (a fabric8
 * {@code informOnCondition}, one watch), later callers join it, and the last one to leave without it having
 * completed cancels it, which stops the watch. Before, each of a user's concurrent create_db calls opened a
 * watch of its own on the same database.
 */
final class SharedWaits {

    private static final class Shared {
        final CompletableFuture<?> done;
        int waiters;

        Shared(CompletableFuture<?> done) {
            this.done = done;
        }
    }

    private final Map<String, Shared> waits = new HashMap<>();

    /**
     * Waits up to {@code timeoutNanos} for the shared wait under {@code key}, starting it with {@code start} when
     * nobody waits yet. Returns true once it completed, false when the time ran out.
     */
    boolean await(String key, Supplier<CompletableFuture<?>> start, long timeoutNanos) {
        Shared shared;
        synchronized (this) {
            shared = waits.get(key);
            if (shared == null || shared.done.isCompletedExceptionally()) {
                shared = new Shared(start.get());
                waits.put(key, shared);
            }
            shared.waiters++;
        }
        try {
            shared.done.get(timeoutNanos, TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw PlaygroundError.SHUTTING_DOWN.exception(e);
        } catch (ExecutionException e) {
            // The watch ends only when the API server fails it (the wait itself is bounded above).
            throw e.getCause() instanceof RuntimeException r ? r : PlaygroundError.CLUSTER_UNAVAILABLE.exception(e);
        } finally {
            synchronized (this) {
                if (--shared.waiters == 0) {
                    if (waits.get(key) == shared) {
                        waits.remove(key);
                    }
                    // Stops fabric8's informer when nobody waits any more (a no-op once it completed).
                    shared.done.cancel(true);
                }
            }
        }
    }

    /** Waits in progress (for tests). */
    synchronized int size() {
        return waits.size();
    }

    /** Callers waiting under this key (for tests). */
    synchronized int waiters(String key) {
        Shared shared = waits.get(key);
        return shared == null ? 0 : shared.waiters;
    }
}
