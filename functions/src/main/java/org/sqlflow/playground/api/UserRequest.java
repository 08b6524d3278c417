package org.sqlflow.playground.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The one input of create_db and heart_beat, after the edge has validated it. */
public record UserRequest(@JsonProperty("user_id") String userId) {}
