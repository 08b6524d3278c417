package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.sqlflow.playground.testing.Waits.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A user's concurrent create_db calls share one wait (one watch) for their database; outcomes, no timings. */
class SharedWaitsTest {

    private static final long LONG = TimeUnit.MINUTES.toNanos(5);

    @Test
    void concurrentWaitersShareOneWaitAndAllSeeItComplete() throws Exception {
        SharedWaits waits = new SharedWaits();
        CompletableFuture<Object> ready = new CompletableFuture<>();
        AtomicInteger started = new AtomicInteger();
        ExecutorService callers = Executors.newFixedThreadPool(5);
        try {
            Future<?>[] calls = new Future<?>[5];
            for (int i = 0; i < calls.length; i++) {
                calls[i] = callers.submit(() -> waits.await(
                        "db-alice",
                        () -> {
                            started.incrementAndGet();
                            return ready;
                        },
                        LONG));
            }
            await("five waiters on one wait", Duration.ofSeconds(30)).until(() -> waits.waiters("db-alice") == 5);
            ready.complete(null);
            for (Future<?> call : calls) {
                assertThat(call.get(30, TimeUnit.SECONDS)).isEqualTo(Boolean.TRUE);
            }
        } finally {
            callers.shutdownNow();
        }
        assertThat(started).as("one watch for all five").hasValue(1);
        assertThat(waits.size()).isZero();
    }

    @Test
    void theLastWaiterToGiveUpStopsTheWaitAndTheNextCallStartsAfresh() {
        SharedWaits waits = new SharedWaits();
        CompletableFuture<Object> first = new CompletableFuture<>();
        assertThat(waits.await("db-bob", () -> first, 0)).as("out of time").isFalse();
        assertThat(first).as("nobody waits any more: the watch is stopped").isCancelled();
        assertThat(waits.size()).isZero();

        CompletableFuture<Object> second = CompletableFuture.completedFuture(null);
        assertThat(waits.await("db-bob", () -> second, 0)).isTrue();
    }
}
