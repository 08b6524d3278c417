package org.sqlflow.playground.reaper;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import org.sqlflow.playground.cluster.WarmPool;

/**
 * What one sweep did (or, in a dry run, would have done). Users appear by their exact user id; every examined
 * root lands in exactly one count: active, reaped, kept or failed. Nothing here is secret, but who was reaped
 * is personal: the CronJob's reply (kept in its Job's log) gets {@link #withoutDetail()}.
 */
public record ReapReport(
        @JsonProperty("dry_run") boolean dryRun,
        @JsonProperty("started_at") String startedAt,
        @JsonProperty("finished_at") String finishedAt,
        @JsonProperty("counts") Counts counts,

        @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("reaped")
        List<UserOutcome> reaped,

        @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("kept")
        List<UserOutcome> kept,

        @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("failed")
        List<UserOutcome> failed,

        @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("orphans")
        List<Orphan> orphans,

        @JsonProperty("pool") WarmPool.Upkeep pool) {

    public record Counts(
            @JsonProperty("examined") int examined,
            @JsonProperty("active") int active,
            @JsonProperty("reaped") int reaped,
            @JsonProperty("kept") int kept,
            @JsonProperty("failed") int failed,
            @JsonProperty("orphans_removed") int orphansRemoved) {}

    /** One user's outcome; user_id is absent for a failure that concerns no single user (a listing, a shard). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record UserOutcome(
            @JsonProperty("user_id") String userId,
            @JsonProperty("reason") String reason,
            @JsonProperty("last_activity") String lastActivity) {}

    /** A left-over object or heartbeat entry without a database: kind, and its name or ledger key. */
    public record Orphan(
            @JsonProperty("kind") String kind,
            @JsonProperty("name") String name) {}

    /** The same sweep as counts only: no user ids, no object names (they stay in the log and the Events). */
    public ReapReport withoutDetail() {
        return new ReapReport(dryRun, startedAt, finishedAt, counts, null, null, null, null, pool);
    }
}
