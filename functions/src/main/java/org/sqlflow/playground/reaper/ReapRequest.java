package org.sqlflow.playground.reaper;

import com.fasterxml.jackson.annotation.JsonProperty;

/** reap_stale's input, as the edge hands it over: {@code {"dry_run": true|false}}. */
public record ReapRequest(@JsonProperty("dry_run") boolean dryRun) {
}
