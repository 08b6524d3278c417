package org.sqlflow.playground.api;

import java.util.Locale;
import java.util.Optional;

/**
 * The only requests the API port answers; everything else spring-cloud-function-web could serve (bean names,
 * compositions, path arguments, the routing function) is a 404. The path is spring.cloud.function.web.path
 * followed by the function's bean alias, which the framework resolves.
 */
public enum Endpoint {
    CREATE_DB("POST"),
    HEART_BEAT("GET"),
    REAP_STALE("POST");

    private final String method;
    private final String function;
    private final String path;

    Endpoint(String method) {
        this.method = method;
        this.function = name().toLowerCase(Locale.ROOT);
        this.path = "/api/" + function;
    }

    public String method() {
        return method;
    }

    /** The bean alias, e.g. create_db. */
    public String function() {
        return function;
    }

    public String path() {
        return path;
    }

    public static Optional<Endpoint> forPath(String path) {
        for (Endpoint e : values()) {
            if (e.path.equals(path)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }
}
