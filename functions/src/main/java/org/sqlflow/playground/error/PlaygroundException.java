package org.sqlflow.playground.error;

import java.time.Duration;

/**
 * A failure the caller should hear about as JSON: one entry of the {@link PlaygroundError} catalogue, with its
 * sentence filled in. Made only through the catalogue, so every code the API can answer is listed there.
 */
public final class PlaygroundException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final PlaygroundError error;
    private final Duration retryAfter;

    PlaygroundException(PlaygroundError error, String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.error = error;
        this.retryAfter = retryAfter;
    }

    public PlaygroundError error() {
        return error;
    }

    public int status() {
        return error.status();
    }

    public String code() {
        return error.code();
    }

    /** The answer's Retry-After: the thrower's own value, else the catalogue's (given the configured one). */
    public Duration retryAfter(Duration configured) {
        if (retryAfter != null) {
            return retryAfter;
        }
        return switch (error.retry()) {
            case NONE -> null;
            case CONFIGURED -> configured;
            case MINUTE -> Duration.ofMinutes(1);
        };
    }
}
