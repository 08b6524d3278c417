package org.sqlflow.playground.cluster;

import java.time.Duration;
import java.time.Instant;

/**
 * When a database stops being wanted. Last activity is the later of the user's last stored beat and the
 * database's creation ({@link DatabaseRoot#createdAt()}); the database expires a TTL after that, or, when a maximum
 * age is set, at creation plus that age, whichever comes first.
 */
public record ExpiryPolicy(Duration ttl, Duration maxAge) {

    public Instant lastActivity(Instant lastBeat, Instant createdAt) {
        if (lastBeat == null) {
            return createdAt;
        }
        return createdAt == null || lastBeat.isAfter(createdAt) ? lastBeat : createdAt;
    }

    /** When the database expires; null only when there is neither a beat nor a creation time. */
    public Instant expiresAt(Instant lastBeat, Instant createdAt) {
        Instant last = lastActivity(lastBeat, createdAt);
        Instant byTtl = last == null ? null : last.plus(ttl);
        if (hasMaxAge() && createdAt != null) {
            Instant byAge = createdAt.plus(maxAge);
            return byTtl == null || byAge.isBefore(byTtl) ? byAge : byTtl;
        }
        return byTtl;
    }

    /** True once "now" is past the expiry: the boundary instant itself still belongs to the user. */
    public boolean isExpired(Instant now, Instant lastBeat, Instant createdAt) {
        Instant expires = expiresAt(lastBeat, createdAt);
        return expires != null && now.isAfter(expires);
    }

    /** True once "now" is past the TTL after the last activity (rather than only past the maximum age). */
    public boolean isIdle(Instant now, Instant lastBeat, Instant createdAt) {
        Instant last = lastActivity(lastBeat, createdAt);
        return last != null && now.isAfter(last.plus(ttl));
    }

    private boolean hasMaxAge() {
        return maxAge != null && !maxAge.isZero() && !maxAge.isNegative();
    }
}
