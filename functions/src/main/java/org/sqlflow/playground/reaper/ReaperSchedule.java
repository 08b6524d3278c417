package org.sqlflow.playground.reaper;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Standalone and local mode: the jar sweeps by itself every interval, on one daemon thread, one sweep at a time
 * (the next starts an interval after the previous ended). In Knative a CronJob calls reap_stale instead, and
 * this schedule is off (PLAYGROUND_REAPER_SCHEDULE=false).
 */
public class ReaperSchedule implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReaperSchedule.class);

    private final Runnable sweep;
    private final Duration interval;
    private final boolean enabled;
    private ScheduledExecutorService timer;

    /**
     * @param sweep    one sweep; its failures are logged and the schedule goes on
     * @param interval time between the end of one sweep and the start of the next (and before the first)
     * @param enabled  false: {@link #start()} does nothing
     */
    public ReaperSchedule(Runnable sweep, Duration interval, boolean enabled) {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("playground.reaper.interval must be positive, got " + interval);
        }
        this.sweep = sweep;
        this.interval = interval;
        this.enabled = enabled;
    }

    public synchronized ReaperSchedule start() {
        if (!enabled || timer != null) {
            return this;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "reaper-schedule");
            t.setDaemon(true);
            return t;
        });
        long nanos = interval.toNanos();
        timer.scheduleWithFixedDelay(this::runOnce, nanos, nanos, TimeUnit.NANOSECONDS);
        log.info("the reaper sweeps every {}", interval);
        return this;
    }

    public synchronized boolean isRunning() {
        return timer != null && !timer.isShutdown();
    }

    private void runOnce() {
        try {
            sweep.run();
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: log and keep the schedule.
            log.error("reaper sweep failed; the next runs in {}", interval, e);
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
