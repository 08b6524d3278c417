package org.sqlflow.playground.cluster;

import java.time.Duration;
import java.time.Instant;

import io.fabric8.kubernetes.api.model.apps.Deployment;

/**
 * When a database stops being wanted. Last activity is the later of the user's last stored beat and the
 * database's creation; the database expires a TTL after that, or, when a maximum age is set, at creation
 * plus that age, whichever comes first.
 */
public record ExpiryPolicy(Duration ttl, Duration maxAge) {

    public Instant lastActivity(Instant lastBeat, Deployment root) {
        Instant created = createdAt(root);
        if (lastBeat == null) {
            return created;
        }
        return created == null || lastBeat.isAfter(created) ? lastBeat : created;
    }

    public Instant expiresAt(Instant lastBeat, Deployment root) {
        Instant last = lastActivity(lastBeat, root);
        Instant byTtl = last == null ? null : last.plus(ttl);
        if (hasMaxAge() && createdAt(root) != null) {
            Instant byAge = createdAt(root).plus(maxAge);
            return byTtl == null || byAge.isBefore(byTtl) ? byAge : byTtl;
        }
        return byTtl;
    }

    /** True once "now" is past the expiry: the boundary instant itself still belongs to the user. */
    public boolean isExpired(Instant now, Instant lastBeat, Deployment root) {
        Instant expires = expiresAt(lastBeat, root);
        return expires != null && now.isAfter(expires);
    }

    public boolean hasMaxAge() {
        return maxAge != null && !maxAge.isZero() && !maxAge.isNegative();
    }

    public static Instant createdAt(Deployment root) {
        String ts = root == null || root.getMetadata() == null ? null : root.getMetadata().getCreationTimestamp();
        return ts == null ? null : Instant.parse(ts);
    }
}
