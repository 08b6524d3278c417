package org.sqlflow.playground.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** heart_beat's answer: database is "ready", "starting" or "none"; expires_at is absent without a database. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HeartBeatReply(
        @JsonProperty("user_id") String userId,
        @JsonProperty("database") String database,
        @JsonProperty("expires_at") String expiresAt) {}
