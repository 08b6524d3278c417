package org.sqlflow.playground;

import java.time.Duration;

/**
 * A failure the caller should hear about as JSON: an HTTP status, a stable code for programs and one sentence
 * for a person. The message never holds a secret: it reaches the notebook as it is.
 */
public class PlaygroundException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;
    private final Duration retryAfter;

    public PlaygroundException(int status, String code, String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.code = code;
        this.retryAfter = retryAfter;
    }

    public PlaygroundException(int status, String code, String message) {
        this(status, code, message, null, null);
    }

    public static PlaygroundException badRequest(String code, String message) {
        return new PlaygroundException(400, code, message);
    }

    public static PlaygroundException unavailable(String code, String message, Duration retryAfter, Throwable cause) {
        return new PlaygroundException(503, code, message, retryAfter, cause);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** When set, the answer carries Retry-After. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
