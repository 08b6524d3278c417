package org.sqlflow.playground.listing;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import org.sqlflow.playground.reaper.ReapReport;

/**
 * One page of GET /api/databases: the users' databases ordered by user id, and the state of the whole playground.
 * {@code next_after} is the cursor of the next page (pass it as {@code after}); null on the last page.
 */
public record ListingPage(
        @JsonProperty("databases") List<Entry> databases,
        @JsonProperty("total") int total,
        @JsonProperty("next_after") String nextAfter,
        @JsonProperty("running") int running,
        @JsonProperty("max_databases") int maxDatabases,
        @JsonProperty("pool") Pool pool,
        @JsonProperty("last_sweep") ReapReport lastSweep,
        @JsonProperty("synced") boolean synced) {

    /** A user's database. Times are RFC 3339 UTC; {@code last_beat} is null before the first stored beat. */
    public record Entry(
            @JsonProperty("user_id") String userId,
            @JsonProperty("state") String state,
            @JsonProperty("created") String created,
            @JsonProperty("last_beat") String lastBeat,
            @JsonProperty("expires_at") String expiresAt,
            @JsonProperty("pooled") boolean pooled,
            @JsonProperty("kept") boolean kept) {}

    /** The warm pool: its configured size and its unclaimed databases by readiness. */
    public record Pool(
            @JsonProperty("size") int size,
            @JsonProperty("ready") int ready,
            @JsonProperty("starting") int starting) {}
}
