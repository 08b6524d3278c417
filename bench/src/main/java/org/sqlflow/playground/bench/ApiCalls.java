package org.sqlflow.playground.bench;

import java.util.Map;
import java.util.TreeMap;

/** Kubernetes API calls by "VERB resource", as counted before and after a phase; "writes" are POST/PUT/PATCH/DELETE. */
final class ApiCalls {

    private ApiCalls() {}

    static Map<String, Long> diff(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new TreeMap<>();
        after.forEach((k, v) -> {
            long x = v - before.getOrDefault(k, 0L);
            if (x != 0) {
                d.put(k, x);
            }
        });
        return d;
    }

    static boolean isWrite(String kind) {
        String verb = kind.split(" ")[0];
        return verb.equals("POST") || verb.equals("PUT") || verb.equals("PATCH") || verb.equals("DELETE");
    }

    /** POST, PUT, PATCH and DELETE calls, all resources together. */
    static long writes(Map<String, Long> calls) {
        return calls.entrySet().stream()
                .filter(e -> isWrite(e.getKey()))
                .mapToLong(Map.Entry::getValue)
                .sum();
    }

    static double writesPer(Map<String, Long> calls, long ops) {
        return ops == 0 ? Double.NaN : Format.round((double) writes(calls) / ops, 4);
    }

    static Map<String, Object> perOp(Map<String, Long> calls, long ops) {
        Map<String, Object> m = new TreeMap<>();
        calls.forEach((k, v) -> m.put(k, Format.round((double) v / Math.max(1, ops), 3)));
        return m;
    }

    /** "DELETE deployments 100, GET configmaps 17, ..." */
    static String compact(Map<String, Long> calls) {
        StringBuilder sb = new StringBuilder();
        calls.forEach((k, v) ->
                sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
        return sb.toString();
    }

    /** An audit event's verb, or apiserver_request_total's, as the HTTP verbs the embedded server counts. */
    static String verb(String apiVerb) {
        return switch (apiVerb) {
            case "create", "CREATE" -> "POST";
            case "update", "UPDATE" -> "PUT";
            case "patch", "PATCH", "APPLY" -> "PATCH";
            case "delete", "deletecollection", "DELETE", "DELETECOLLECTION" -> "DELETE";
            case "list", "LIST" -> "LIST";
            case "watch", "WATCH" -> "WATCH";
            default -> apiVerb.toUpperCase(java.util.Locale.ROOT);
        };
    }
}
