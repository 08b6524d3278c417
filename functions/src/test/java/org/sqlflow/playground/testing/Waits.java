package org.sqlflow.playground.testing;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * The tests' one way of waiting: Awaitility, with the bound every wait for a cluster shares. The bound is not a
 * timing assertion: it only stops a test that would otherwise hang, and a busy machine slows the API server, its
 * controllers and the watches down a lot.
 */
public final class Waits {

    /** How long a test waits for what the API server, its controllers or a watch do on their own. */
    public static final Duration CLUSTER = Duration.ofSeconds(120);

    private Waits() {}

    /**
     * Awaits {@code what} for up to {@link #CLUSTER}: checked at once, then every 50 ms, and described by
     * {@code what} when it times out. An exception the condition throws fails the wait; one that another thread
     * leaves uncaught (a background refill, a watch) does not, as the code under test handles its own.
     */
    public static ConditionFactory await(String what) {
        return await(what, CLUSTER);
    }

    /** As {@link #await(String)}, with a bound of the caller's. */
    public static ConditionFactory await(String what, Duration atMost) {
        return Awaitility.await(what)
                .atMost(atMost)
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(50))
                .dontCatchUncaughtExceptions();
    }
}
