package org.sqlflow.playground.api;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.sqlflow.playground.error.PlaygroundError;
import org.sqlflow.playground.identity.CallerIdentity;

/**
 * How many create_db calls may be in progress at once: per target user id, per caller identity (an admin
 * certificate acts for anyone), and on the whole instance. A create_db call holds a request thread while its
 * database starts (up to playground.database.ready-wait); without these bounds, one user's flood of calls for a
 * database that is still starting held every one of Tomcat's threads, and everyone else's heart_beat waited
 * behind it. A call past a limit is answered at once and holds nothing.
 *
 * <p>heart_beat is deliberately not limited here: the SQLFlow client re-sends a beat at once, forever, on any
 * non-2xx answer, so refusing beats would multiply them. A beat is cheap (the watch-fed cache, at most one
 * write per precision window) and holds its thread for milliseconds.
 */
public final class InFlightLimits {

    /** @param perUser calls for one target user id; @param perCaller calls by one certificate; @param total all */
    public record Settings(int perUser, int perCaller, int total) {}

    private final Settings settings;
    private final ConcurrentMap<String, Integer> byUser = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Integer> byCaller = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();

    public InFlightLimits(Settings settings) {
        this.settings = settings;
    }

    /** A slot held by one call; release it exactly once, when the call has been answered. */
    public final class Permit implements AutoCloseable {
        private final String user;
        private final String caller;
        private boolean released;

        private Permit(String user, String caller) {
            this.user = user;
            this.caller = caller;
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                decrement(byUser, user);
                decrement(byCaller, caller);
                total.decrementAndGet();
            }
        }
    }

    /** Takes a slot for a create_db call, or throws the 429 (or 503) the caller should hear at once. */
    public Permit acquire(String userId, CallerIdentity caller) {
        String callerKey = (caller.admin() ? "admin:" : "user:") + caller.userId();
        if (!increment(byUser, userId, settings.perUser())) {
            throw PlaygroundError.TOO_MANY_FOR_USER.exception();
        }
        if (!increment(byCaller, callerKey, settings.perCaller())) {
            decrement(byUser, userId);
            throw PlaygroundError.TOO_MANY_FOR_CALLER.exception();
        }
        if (total.incrementAndGet() > settings.total()) {
            total.decrementAndGet();
            decrement(byUser, userId);
            decrement(byCaller, callerKey);
            throw PlaygroundError.PLAYGROUND_BUSY.exception();
        }
        return new Permit(userId, callerKey);
    }

    /** Calls in progress for this target user id (for tests and metrics). */
    public int inFlightFor(String userId) {
        return byUser.getOrDefault(userId, 0);
    }

    public int inFlight() {
        return total.get();
    }

    /** Counts up unless at the limit; entries at zero are removed, so idle users cost no memory. */
    private static boolean increment(ConcurrentMap<String, Integer> counts, String key, int limit) {
        boolean[] taken = {false};
        counts.compute(key, (k, n) -> {
            int current = n == null ? 0 : n;
            if (current >= limit) {
                return n;
            }
            taken[0] = true;
            return current + 1;
        });
        return taken[0];
    }

    private static void decrement(ConcurrentMap<String, Integer> counts, String key) {
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }
}
