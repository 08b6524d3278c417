package org.sqlflow.playground.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** create_db's answer: SQLFlow reads data_source; the rest is for people and scripts. */
public record CreateDbReply(
        @JsonProperty("data_source") String dataSource,
        @JsonProperty("user_id") String userId,
        @JsonProperty("expires_at") String expiresAt) {

    @Override
    public String toString() {
        return "CreateDbReply[userId=" + userId + "]";
    }
}
