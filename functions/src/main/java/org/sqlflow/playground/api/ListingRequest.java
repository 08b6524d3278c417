package org.sqlflow.playground.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The input of GET /api/databases, after the edge has validated it: the cursor (or null) and the page size. */
public record ListingRequest(
        @JsonProperty("after") String after,
        @JsonProperty("limit") int limit) {}
