package org.sqlflow.playground.reaper;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * reap_stale's input, as the edge hands it over: {@code {"dry_run": true|false, "detail": true|false}}. The edge
 * alone decides {@code detail} (an admin certificate: yes; the reaper's CronJob: no); a client cannot set it.
 * Absent, it is false: counts only.
 */
public record ReapRequest(
        @JsonProperty("dry_run") boolean dryRun,
        @JsonProperty("detail") boolean detail) {}
