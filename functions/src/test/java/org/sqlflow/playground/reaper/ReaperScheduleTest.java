package org.sqlflow.playground.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** The self-schedule of standalone and local mode; waits are bounded latch waits, never sleeps. */
class ReaperScheduleTest {

    @Test
    void sweepsRepeatedlyOneAtATimeAndSurvivesAFailedSweep() throws InterruptedException {
        CountDownLatch threeSweeps = new CountDownLatch(3);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        Runnable sweep = () -> {
            if (running.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            try {
                if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("the API server is down");
                }
                threeSweeps.countDown();
            } finally {
                running.decrementAndGet();
            }
        };
        try (ReaperSchedule schedule = new ReaperSchedule(sweep, Duration.ofMillis(5), true).start()) {
            assertTrue(schedule.isRunning());
            assertTrue(threeSweeps.await(30, TimeUnit.SECONDS), "the schedule went on after a failed sweep");
        }
        assertEquals(0, overlaps.get(), "sweeps never overlap");
    }

    @Test
    void aDisabledScheduleNeverSweeps() {
        AtomicInteger calls = new AtomicInteger();
        try (ReaperSchedule schedule = new ReaperSchedule(calls::incrementAndGet, Duration.ofMillis(1), false).start()) {
            assertFalse(schedule.isRunning());
        }
        assertEquals(0, calls.get());
    }

    @Test
    void theIntervalMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new ReaperSchedule(() -> { }, Duration.ZERO, true));
    }
}
