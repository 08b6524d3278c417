package org.sqlflow.playground.api;

import java.util.Locale;

/**
 * The only requests the API port answers; everything else spring-cloud-function-web could serve (bean names,
 * compositions, path arguments, the routing function) is a 404. The path is spring.cloud.function.web.path
 * followed by the function's bean alias, from which the framework resolves the function.
 */
enum Endpoint {
    CREATE_DB("POST"),
    HEART_BEAT("GET"),
    REAP_STALE("POST"),
    DATABASES("GET");

    final String method;
    final String function = name().toLowerCase(Locale.ROOT);
    final String path = "/api/" + function;

    Endpoint(String method) {
        this.method = method;
    }
}
