package org.sqlflow.playground.reaper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The self-schedule of standalone and local mode; waits are bounded latch waits, never sleeps. */
class ReaperScheduleTest {

    @Test
    void eachSweepStartsAnIntervalAfterThePreviousEndedAndAFailedSweepDoesNotStopThem() throws InterruptedException {
        Duration interval = Duration.ofMillis(20);
        CountDownLatch fourSweeps = new CountDownLatch(4);
        List<long[]> sweeps = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        Runnable sweep = () -> {
            long start = System.nanoTime();
            try {
                if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("the API server is down");
                }
            } finally {
                sweeps.add(new long[] {start, System.nanoTime()});
                fourSweeps.countDown();
            }
        };
        try (ReaperSchedule schedule = new ReaperSchedule(sweep, interval, true).start()) {
            assertThat(schedule.isRunning()).isTrue();
            assertThat(fourSweeps.await(30, TimeUnit.SECONDS))
                    .as("the schedule went on after a failed sweep")
                    .isTrue();
        }
        // A start before the previous end would be an overlap; one sooner than the interval after it, a timer
        // that runs at a fixed rate (which bunches sweeps up after a slow one) instead of a fixed delay.
        for (int i = 1; i < 4; i++) {
            assertThat(sweeps.get(i)[0] - sweeps.get(i - 1)[1])
                    .as("the pause before sweep " + i)
                    .isGreaterThanOrEqualTo(interval.toNanos());
        }
    }

    @Test
    void aDisabledScheduleNeverSweeps() {
        AtomicInteger calls = new AtomicInteger();
        try (ReaperSchedule schedule =
                new ReaperSchedule(calls::incrementAndGet, Duration.ofMillis(1), false).start()) {
            assertThat(schedule.isRunning()).isFalse();
        }
        assertThat(calls).hasValue(0);
    }

    @Test
    void theIntervalMustBePositive() {
        assertThatThrownBy(() -> new ReaperSchedule(() -> {}, Duration.ZERO, true))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
