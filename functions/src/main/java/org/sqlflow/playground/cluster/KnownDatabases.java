package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * create_db for a user whose database this instance provisioned a moment ago (the notebook's kernel restarts
 * and asks again), answered from memory and the watch-fed cache: the beat is still stored, but the root, its
 * Secret and its Service are not read again. Everything else goes to {@link DatabaseProvisioner}.
 *
 * <p>An answer is remembered only with the uid the cache showed for the root both before and after the full
 * create-or-get, so it can only belong to that root or to a later one the cache has not seen yet; it is used
 * only while the cache still shows that very root, not condemned, not being deleted and ready, and only within
 * half a TTL of the full call, the same bound within which heart_beat trusts a root it confirmed (a root whose
 * user beat less than a TTL ago is not the reaper's to condemn). The remembered reply holds a password: it is
 * never logged.
 */
public class KnownDatabases {

    private record Known(String rootUid, String dataSource, Instant confirmedAt) {
        @Override
        public String toString() {
            return "Known[rootUid=" + rootUid + "]";
        }
    }

    private final DatabaseProvisioner provisioner;
    private final DatabaseDirectory directory;
    private final HeartbeatLedger ledger;
    private final ExpiryPolicy expiry;
    private final Clock clock;
    private final Duration trustFor;
    private final Map<String, Known> known = new ConcurrentHashMap<>();

    public KnownDatabases(
            DatabaseProvisioner provisioner,
            DatabaseDirectory directory,
            HeartbeatLedger ledger,
            ExpiryPolicy expiry,
            Clock clock) {
        this.provisioner = provisioner;
        this.directory = directory;
        this.ledger = ledger;
        this.expiry = expiry;
        this.clock = clock;
        this.trustFor = expiry.ttl().dividedBy(2);
    }

    public DatabaseProvisioner.Provisioned createOrGet(UserKey user) {
        Deployment cached = directory.cached(user);
        Known k = known.get(user.key());
        Instant now = clock.instant();
        if (k != null
                && cached != null
                && k.rootUid().equals(cached.getMetadata().getUid())
                && !DatabaseRoot.of(cached).isDeleting()
                && !DatabaseRoot.of(cached).isCondemned()
                && directory.isServingReady(cached)
                && !k.confirmedAt().isAfter(now)
                && Duration.between(k.confirmedAt(), now).compareTo(trustFor) < 0) {
            DatabaseRoots.checkOwner(cached, user);
            Instant beat = ledger.beat(user);
            return new DatabaseProvisioner.Provisioned(
                    user.userId(),
                    k.dataSource(),
                    expiry.expiresAt(beat, DatabaseRoot.of(cached).createdAt()),
                    false);
        }
        known.remove(user.key());
        String uidBefore = uid(cached);
        DatabaseProvisioner.Provisioned p = provisioner.createOrGet(user);
        String uidAfter = uid(directory.cached(user));
        if (uidBefore != null && uidBefore.equals(uidAfter)) {
            known.put(user.key(), new Known(uidBefore, p.dataSource(), now));
        }
        return p;
    }

    private static String uid(Deployment root) {
        return root == null ? null : DatabaseRoot.of(root).uid();
    }
}
