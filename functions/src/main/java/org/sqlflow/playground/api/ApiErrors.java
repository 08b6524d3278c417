package org.sqlflow.playground.api;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.PlaygroundException;
import tools.jackson.databind.json.JsonMapper;

/** Every error leaves as {"error": code, "message": sentence}: no stack trace, no secret, never a bare 500. */
final class ApiErrors {

    private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ApiErrors() {
    }

    /** Finds what the caller should hear about an exception that escaped a function. */
    static PlaygroundException classify(Throwable thrown, Duration retryAfter) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof PlaygroundException p) {
                return p;
            }
        }
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof KubernetesClientException k) {
                // Only the status code is logged: fabric8's messages can quote request details.
                log.warn("Kubernetes API call failed (HTTP {}): {}", k.getCode(), k.getClass().getSimpleName());
                if (k.getCode() == 409) {
                    return PlaygroundException.unavailable("conflict",
                            "Another request changed this database at the same moment; try again.", retryAfter, k);
                }
                return PlaygroundException.unavailable("cluster_unavailable",
                        "The playground's cluster is not answering right now; try again in a minute.", retryAfter, k);
            }
        }
        log.error("unexpected failure", thrown);
        return new PlaygroundException(500, "internal_error", "Something went wrong on the playground server.");
    }

    static void write(HttpServletResponse response, PlaygroundException e) throws IOException {
        write(response, e.status(), e.code(), e.getMessage(), e.retryAfter());
    }

    static void write(HttpServletResponse response, int status, String code, String message, Duration retryAfter)
            throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.resetBuffer();
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        if (retryAfter != null) {
            response.setHeader("Retry-After", Long.toString(Math.max(1, retryAfter.toSeconds())));
        }
        Map<String, String> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("message", message);
        response.getOutputStream().write(JSON.writeValueAsBytes(body));
        response.flushBuffer();
    }
}
