package org.sqlflow.playground.reaper;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.sqlflow.playground.error.PlaygroundError;

/**
 * Refuses a sweep asked for sooner than the minimum interval after the last one this instance admitted. A sweep
 * lists every database and heartbeat shard; whoever can call reap_stale (the CronJob, an admin) must not be able
 * to turn it into a load on the API server. Per instance: the reaper's Knative Service runs at most one pod.
 */
public final class SweepThrottle {

    private final Duration minInterval;
    private final Clock clock;
    private Instant last;

    public SweepThrottle(Duration minInterval, Clock clock) {
        this.minInterval = minInterval;
        this.clock = clock;
    }

    /** Admits a sweep now, or throws 429 {@code sweep_too_soon} with the time left as Retry-After. */
    public synchronized void admit() {
        Instant now = clock.instant();
        if (last != null && now.isBefore(last.plus(minInterval))) {
            Duration left = Duration.between(now, last.plus(minInterval));
            throw PlaygroundError.SWEEP_TOO_SOON.retryingAfter(
                    left.isZero() ? Duration.ofSeconds(1) : left, minInterval.toSeconds());
        }
        last = now;
    }
}
