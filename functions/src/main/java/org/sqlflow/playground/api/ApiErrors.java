package org.sqlflow.playground.api;

import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.error.PlaygroundError;
import org.sqlflow.playground.error.PlaygroundException;
import tools.jackson.databind.json.JsonMapper;

/** Every error leaves as {"error": code, "message": sentence}: no stack trace, no secret, never a bare 500. */
final class ApiErrors {

    private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ApiErrors() {}

    /**
     * Finds what the caller should hear about an exception that escaped a function. The application's own
     * conditions arrive as PlaygroundException; a KubernetesClientException is a failure of the API server itself
     * (or a conflict it reported); anything else is our bug.
     */
    static PlaygroundException classify(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof PlaygroundException p) {
                return p;
            }
        }
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof KubernetesClientException k) {
                // Only the status code is logged: fabric8's messages can quote request details.
                log.warn(
                        "Kubernetes API call failed (HTTP {}): {}",
                        k.getCode(),
                        k.getClass().getSimpleName());
                return (k.getCode() == 409 ? PlaygroundError.CONFLICT : PlaygroundError.CLUSTER_UNAVAILABLE)
                        .exception(k);
            }
        }
        log.error("unexpected failure", thrown);
        return PlaygroundError.INTERNAL_ERROR.exception();
    }

    /** @param configuredRetryAfter playground.database.retry-after, for the entries that use it */
    static void write(HttpServletResponse response, PlaygroundException e, Duration configuredRetryAfter)
            throws IOException {
        write(response, e.status(), e.code(), e.getMessage(), e.retryAfter(configuredRetryAfter));
    }

    private static void write(
            HttpServletResponse response, int status, String code, String message, Duration retryAfter)
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
