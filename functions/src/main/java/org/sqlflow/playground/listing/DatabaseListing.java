package org.sqlflow.playground.listing;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.sqlflow.playground.cluster.DatabaseDirectory;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.reaper.Reaper;

/**
 * The operators' view: who has a database, since when, their last stored beat and when it expires, and the state
 * of the pool and the reaper. Answered from the watch-fed directory and one read of the heartbeat ledger (its
 * shards listed by label, four per request): the number of API requests depends on the shard count, never on the
 * number of users. The same counts are exported as gauges, so alerts see what the listing shows.
 */
public class DatabaseListing {

    /** Entries per page at most, and by default. */
    public static final int MAX_PAGE = 500;

    /** A user's database as the listing names it. */
    public enum State {
        STARTING,
        READY,
        CONDEMNED
    }

    private final DatabaseDirectory directory;
    private final HeartbeatLedger ledger;
    private final ExpiryPolicy expiry;
    private final WarmPool pool;
    private final Reaper reaper;
    private final int maxDatabases;

    public DatabaseListing(
            DatabaseDirectory directory,
            HeartbeatLedger ledger,
            ExpiryPolicy expiry,
            WarmPool pool,
            Reaper reaper,
            int maxDatabases,
            MeterRegistry meters) {
        this.directory = directory;
        this.ledger = ledger;
        this.expiry = expiry;
        this.pool = pool;
        this.reaper = reaper;
        this.maxDatabases = maxDatabases;
        for (State state : State.values()) {
            Gauge.builder(
                            "playground.databases.users",
                            this,
                            l -> l.countByState().get(state))
                    .tag("state", state.name().toLowerCase(Locale.ROOT))
                    .description("users' databases by state, as the watch sees them")
                    .register(meters);
        }
        Gauge.builder("playground.databases.running", directory, DatabaseDirectory::databaseCount)
                .description("databases that run a pod (what playground.database.max-databases bounds)")
                .register(meters);
        Gauge.builder("playground.databases.max", () -> maxDatabases)
                .description("playground.database.max-databases")
                .register(meters);
        Gauge.builder("playground.kubernetes.synced", directory, d -> d.isSynced() ? 1 : 0)
                .description("1 while the watch of the databases holds a complete list and is open")
                .register(meters);
    }

    /**
     * @param after the user id after which the page starts (the previous page's {@code next_after}), or null
     * @param limit entries at most, 1 to {@value #MAX_PAGE}
     */
    public ListingPage page(String after, int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be 1 to " + MAX_PAGE);
        }
        boolean synced = directory.isSynced();
        List<DatabaseRoot> roots = new ArrayList<>();
        for (Deployment d : directory.all()) {
            DatabaseRoot root = DatabaseRoot.of(d);
            if (!root.isPooled() && root.userId() != null) {
                roots.add(root);
            }
        }
        roots.sort(Comparator.comparing(DatabaseRoot::userId));
        List<DatabaseRoot> page = new ArrayList<>();
        for (DatabaseRoot root : roots) {
            if (after == null || root.userId().compareTo(after) > 0) {
                if (page.size() == limit) {
                    break;
                }
                page.add(root);
            }
        }
        boolean more = !page.isEmpty() && roots.get(roots.size() - 1) != page.get(page.size() - 1);
        Map<String, Instant> beats = page.isEmpty() ? Map.of() : latestBeats();
        List<ListingPage.Entry> entries = new ArrayList<>(page.size());
        for (DatabaseRoot root : page) {
            UserKey user = root.user();
            Instant beat = user == null ? null : beats.get(user.key());
            Instant created = root.createdAt();
            entries.add(new ListingPage.Entry(
                    root.userId(),
                    state(root).name().toLowerCase(Locale.ROOT),
                    format(created),
                    format(beat),
                    format(expiry.expiresAt(beat, created)),
                    root.claims() != null,
                    root.isKept()));
        }
        return new ListingPage(
                entries,
                roots.size(),
                more ? page.get(page.size() - 1).userId() : null,
                directory.databaseCount(),
                maxDatabases,
                new ListingPage.Pool(pool.target(), pool.unclaimed(true), pool.unclaimed(false)),
                reaper.lastSweep(),
                synced);
    }

    /** Users' databases by state, from the watch alone. */
    public Map<State, Integer> countByState() {
        Map<State, Integer> counts = new EnumMap<>(State.class);
        for (State s : State.values()) {
            counts.put(s, 0);
        }
        for (Deployment d : directory.all()) {
            DatabaseRoot root = DatabaseRoot.of(d);
            if (!root.isPooled() && root.userId() != null) {
                counts.merge(state(root), 1, Integer::sum);
            }
        }
        return counts;
    }

    private State state(DatabaseRoot root) {
        if (root.isCondemned() || root.isDeleting()) {
            return State.CONDEMNED;
        }
        return directory.isServingReady(root.deployment()) ? State.READY : State.STARTING;
    }

    /** Every stored beat by ledger key: the latest over the shards of any shard count (as the reaper reads it). */
    private Map<String, Instant> latestBeats() {
        Map<String, Instant> latest = new HashMap<>();
        for (Map<String, Instant> shard : ledger.readAll().values()) {
            shard.forEach((key, at) -> latest.merge(key, at, (a, b) -> a.isAfter(b) ? a : b));
        }
        return latest;
    }

    private static String format(Instant instant) {
        return instant == null ? null : instant.toString();
    }
}
