package org.sqlflow.playground.reaper;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;

/**
 * What the reaper decides, from what it read and the time alone: no API calls, no clock of its own. The sweep
 * ({@link Sweep}) reads the roots and the beats, asks here, and carries the decisions out under the guarded
 * protocol ({@link Reaping}).
 *
 * @param expiry    when a database stops being wanted
 * @param orphanAge an object without its root is left alone while younger than this: create_db makes the root
 *                  first and the rest within playground.database.ready-wait
 */
record ReapPolicy(ExpiryPolicy expiry, Duration orphanAge) {

    /** What becomes of one listed Deployment. */
    enum Verdict {
        /** Not a user's root (a warm-pool database) or already being deleted: not examined. */
        IGNORE,
        /** A root whose user-id annotation is missing or does not match its name: left alone, reported failed. */
        UNOWNED,
        /** Its user is active. */
        ACTIVE,
        /** Its user is active, but a sweep that stopped half-way condemned it: take the condemnation back. */
        TAKE_BACK,
        /** Expired, but kept by its annotation. */
        KEEP,
        /** Expired: condemn it, then re-check the ledger. */
        CONDEMN,
        /** Condemned, and the ledger re-read after the condemnation still says expired: delete it. */
        DELETE,
        /** Condemned, but a beat stored since the listing says active: take the condemnation back. */
        SPARE
    }

    /** A verdict on one root, with the user, the last activity and the reason the report and the Event give. */
    record Decision(Verdict verdict, DatabaseRoot root, UserKey user, Instant lastActivity, String reason) {

        /** Every root but the ignored ones lands in exactly one of the report's counts. */
        boolean examined() {
            return verdict != Verdict.IGNORE;
        }

        /** The same decision on the root as a write left it (the condemned version). */
        Decision on(DatabaseRoot written) {
            return new Decision(verdict, written, user, lastActivity, reason);
        }
    }

    /** The latest beat of each user over every heartbeat ConfigMap (the shards of earlier counts too). */
    static Map<String, Instant> latestBeats(Collection<Map<String, Instant>> shards) {
        Map<String, Instant> beats = new HashMap<>();
        for (Map<String, Instant> shard : shards) {
            shard.forEach((key, at) -> beats.merge(key, at, (a, b) -> a.isAfter(b) ? a : b));
        }
        return beats;
    }

    /** The decisions on listed roots, given every user's latest beat (by user key). */
    List<Decision> decide(List<DatabaseRoot> roots, Map<String, Instant> beats, Instant now) {
        return roots.stream().map(root -> decide(root, beats, now)).toList();
    }

    Decision decide(DatabaseRoot root, Map<String, Instant> beats, Instant now) {
        if (root.isDeleting() || root.isPooled()) {
            // A pooled database is no user's root: unclaimed it is the pool's, claimed it goes with its root.
            return new Decision(Verdict.IGNORE, root, null, null, null);
        }
        UserKey user = root.user();
        if (user == null) {
            return new Decision(
                    Verdict.UNOWNED,
                    root,
                    null,
                    null,
                    "database " + root.name() + " has no user-id annotation matching its name; left alone");
        }
        Instant beat = beats.get(user.key());
        Instant last = expiry.lastActivity(beat, root.createdAt());
        if (!expiry.isExpired(now, beat, root.createdAt())) {
            return new Decision(root.isCondemned() ? Verdict.TAKE_BACK : Verdict.ACTIVE, root, user, last, null);
        }
        if (root.isKept()) {
            return new Decision(Verdict.KEEP, root, user, last, "keep annotation " + PlaygroundLabels.KEEP + "=true");
        }
        return new Decision(Verdict.CONDEMN, root, user, last, whyExpired(beat, root, now));
    }

    /**
     * The decision on a root this sweep condemned, once the ledger was re-read after the condemnation: {@code fresh}
     * is the user's beat in that read. The reason and last activity of the delete stay those of the condemnation.
     */
    Decision recheck(Decision condemnation, Instant fresh, Instant now) {
        DatabaseRoot condemned = condemnation.root();
        if (!expiry.isExpired(now, fresh, condemned.createdAt())) {
            return new Decision(
                    Verdict.SPARE,
                    condemned,
                    condemnation.user(),
                    expiry.lastActivity(fresh, condemned.createdAt()),
                    "heartbeat arrived");
        }
        return new Decision(
                Verdict.DELETE, condemned, condemnation.user(), condemnation.lastActivity(), condemnation.reason());
    }

    /**
     * Whether a database object (a Service, volume claim or Secret) is left over: no listed root of its name, the
     * playground's database labels, no deletion under way, and older than the orphan age.
     */
    boolean isOrphan(HasMetadata object, Set<String> rootNames, Instant now) {
        Map<String, String> labels = object.getMetadata().getLabels();
        Instant created = DatabaseRoot.createdAt(object);
        return !rootNames.contains(object.getMetadata().getName())
                && object.getMetadata().getDeletionTimestamp() == null
                && labels != null
                && labels.entrySet().containsAll(PlaygroundLabels.allDatabases().entrySet())
                && created != null
                && now.isAfter(created.plus(orphanAge));
    }

    /** The entries of one heartbeat ConfigMap whose user has no listed root and that are older than the TTL. */
    Map<String, Instant> staleEntries(Map<String, Instant> shard, Set<String> rootNames, Instant now) {
        Map<String, Instant> stale = new HashMap<>();
        shard.forEach((key, at) -> {
            if (!rootNames.contains(UserKey.NAME_PREFIX + key) && now.isAfter(at.plus(expiry.ttl()))) {
                stale.put(key, at);
            }
        });
        return stale;
    }

    private String whyExpired(Instant beat, DatabaseRoot root, Instant now) {
        Instant created = root.createdAt();
        if (expiry.isIdle(now, beat, created)) {
            Instant last = expiry.lastActivity(beat, created);
            return "idle: last activity " + last + ", expired " + last.plus(expiry.ttl());
        }
        return "max age: created " + created + ", expired " + expiry.expiresAt(beat, created);
    }
}
