package org.sqlflow.playground.api;

import java.util.Optional;

/** The only paths the API port answers; everything else spring-cloud-function-web could serve is a 404. */
public enum Endpoint {
    CREATE_DB("/api/create_db", "POST", "create_db"),
    HEART_BEAT("/api/heart_beat", "GET", "heart_beat"),
    REAP_STALE("/api/reap_stale", "POST", "reap_stale");

    private final String path;
    private final String method;
    private final String function;

    Endpoint(String path, String method, String function) {
        this.path = path;
        this.method = method;
        this.function = function;
    }

    public String path() {
        return path;
    }

    public String method() {
        return method;
    }

    /** The bean alias spring-cloud-function-web resolves from the path. */
    public String function() {
        return function;
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
