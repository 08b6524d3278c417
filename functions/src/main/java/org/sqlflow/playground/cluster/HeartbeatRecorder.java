package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * heart_beat: "this user is alive now". A user without a database costs no write, and no read while the
 * watch-fed cache is synced. For a user with one, the beat is stored in the ledger and then, unless this
 * instance confirmed the database within the last half TTL, the root is read back from the API server: if the
 * reaper has condemned it meanwhile, the beat takes the condemnation back before answering. That ordering (store,
 * then check) is what makes the race rule hold: once a beat has been answered, the reaper's delete, conditioned on
 * the condemned version, can no longer win.
 */
public class HeartbeatRecorder {

    /** What heart_beat answers. */
    public record Beat(String userId, DatabaseState database, Instant expiresAt) {}

    public enum DatabaseState {
        READY,
        STARTING,
        NONE
    }

    private final DatabaseRoots roots;
    private final DatabaseDirectory directory;
    private final HeartbeatLedger ledger;
    private final ExpiryPolicy expiry;
    private final Clock clock;
    private final Duration confirmFor;
    private final Map<String, Instant> confirmed = new ConcurrentHashMap<>();

    public HeartbeatRecorder(
            DatabaseRoots roots,
            DatabaseDirectory directory,
            HeartbeatLedger ledger,
            ExpiryPolicy expiry,
            Clock clock) {
        this.roots = roots;
        this.directory = directory;
        this.ledger = ledger;
        this.expiry = expiry;
        this.clock = clock;
        this.confirmFor = expiry.ttl().dividedBy(2);
    }

    public Beat beat(UserKey user) {
        Deployment root = directory.cached(user);
        if (root == null) {
            if (directory.isSynced()) {
                // Answered from the synced cache, without an API read: a user without a database (or whose
                // database is moments old, not yet seen by the watch) gets "none" and nothing is stored. That
                // loses no protection: a root the watch has not seen yet is younger than the watch's delay, and
                // its creation is itself activity, so the reaper cannot take it for a TTL (and create_db
                // stored a beat anyway).
                return new Beat(user.userId(), DatabaseState.NONE, null);
            }
            root = roots.get(user);
            if (root == null) {
                return new Beat(user.userId(), DatabaseState.NONE, null);
            }
        }
        DatabaseRoots.checkOwner(root, user);
        Instant stored = ledger.beat(user);
        Instant now = clock.instant();
        Instant confirmedAt = confirmed.get(user.key());
        if (confirmedAt == null
                || Duration.between(confirmedAt, now).compareTo(confirmFor) >= 0
                || confirmedAt.isAfter(now)) {
            root = roots.rescue(roots.get(user));
            if (root == null) {
                confirmed.remove(user.key());
                return new Beat(user.userId(), DatabaseState.NONE, null);
            }
            DatabaseRoots.checkOwner(root, user);
            confirmed.put(user.key(), now);
        }
        // A root that claims a warm-pool database runs no pod: the pooled database's readiness is the user's.
        DatabaseState state = directory.isServingReady(root) ? DatabaseState.READY : DatabaseState.STARTING;
        return new Beat(
                user.userId(),
                state,
                expiry.expiresAt(stored, DatabaseRoot.of(root).createdAt()));
    }

    /** Called when this instance learns the database is gone, so the next beat checks again. */
    public void forget(UserKey user) {
        confirmed.remove(user.key());
        ledger.forget(user);
    }
}
