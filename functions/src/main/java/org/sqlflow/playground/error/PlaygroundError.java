package org.sqlflow.playground.error;

import java.time.Duration;
import java.util.Locale;

/**
 * Every error the playground answers with. The code is the public contract (programs match on it, the README
 * lists each one); the message is one sentence for the person at the notebook and never holds a secret. Several
 * entries may share a code when only the sentence differs.
 */
public enum PlaygroundError {
    BAD_REQUEST(400, "bad_request", "The request could not be understood."),
    MISSING_BODY(400, "missing_body", "The body must be JSON like {\"user_id\": \"alice\"}."),
    INVALID_JSON(400, "invalid_json", "The body is not valid JSON."),
    BODY_NOT_OBJECT(400, "body_not_object", "The body must be one JSON object like {\"user_id\": \"alice\"}."),
    MISSING_USER_ID_IN_BODY(400, "missing_user_id", "The body must name user_id."),
    MISSING_USER_ID_IN_QUERY(400, "missing_user_id", "Add ?user_id=YOUR_ID to the URL."),
    REPEATED_FIELD(400, "repeated_user_id", "The body names a field more than once."),
    REPEATED_USER_ID(400, "repeated_user_id", "Give user_id exactly once."),
    INVALID_USER_ID(400, "invalid_user_id", "user_id must be 1 to 63 characters of letters, digits, '.', '_' or '-'."),
    INVALID_QUERY(400, "invalid_query", "The query string is not well formed."),
    INVALID_DRY_RUN(400, "invalid_dry_run", "dry_run must be true or false."),
    INVALID_PAGE(400, "invalid_page", "after must be a user id and limit a whole number from 1 to 500."),
    UNAUTHENTICATED(401, "unauthenticated", "No client certificate naming a user came with this request."),
    UNAUTHENTICATED_AT_GATEWAY(
            401,
            "unauthenticated",
            "This request did not come through the playground's gateway with a client certificate."),
    FORBIDDEN_USER(403, "forbidden_user", "Your certificate does not allow acting for this user id."),
    ADMIN_ONLY(403, "admin_only", "Only an admin certificate may start a sweep."),
    ADMIN_ONLY_LISTING(403, "admin_only", "Only an admin certificate may list the databases."),
    NOT_FOUND(
            404,
            "not_found",
            "No such endpoint. This server answers POST /api/create_db and GET /api/heart_beat?user_id=ID."),
    /** Arguments: the path, the method it takes. */
    WRONG_METHOD(405, "method_not_allowed", "%s takes %s only."),
    METHOD_NOT_ALLOWED(405, "method_not_allowed", "This endpoint does not take that method."),
    REQUEST_TIMEOUT(408, "request_timeout", "The request took too long to arrive."),
    USER_ID_CONFLICT(
            409,
            "user_id_conflict",
            "This user id maps to a database that belongs to another user id; ask the maintainer."),
    LENGTH_REQUIRED(411, "length_required", "The request could not be understood."),
    /** Argument: the limit in bytes. */
    BODY_TOO_LARGE(413, "body_too_large", "The body is larger than %d bytes."),
    REQUEST_TOO_LARGE(413, "body_too_large", "The request is too large."),
    URI_TOO_LONG(414, "uri_too_long", "The request's URL is too long."),
    UNSUPPORTED_MEDIA_TYPE(415, "unsupported_media_type", "Send the body as JSON, e.g. {\"user_id\": \"alice\"}."),
    EXPECTATION_FAILED(417, "expectation_failed", "The request could not be understood."),
    TOO_MANY_FOR_USER(
            429,
            "too_many_requests",
            "Too many create_db calls for this user id are in progress; re-run the cell in a few seconds.",
            Retry.CONFIGURED),
    TOO_MANY_FOR_CALLER(
            429,
            "too_many_requests",
            "Too many create_db calls with this certificate are in progress; try again in a few seconds.",
            Retry.CONFIGURED),
    /** Argument: the minimum interval in seconds. The thrower says how long is left. */
    SWEEP_TOO_SOON(429, "sweep_too_soon", "The last sweep started less than %d s ago; try again later."),
    INTERNAL_ERROR(500, "internal_error", "Something went wrong on the playground server."),
    DATABASE_DAMAGED(
            500,
            "database_damaged",
            "Your database's stored settings are damaged; ask the playground's maintainer to remove it."),
    NOT_IMPLEMENTED(501, "not_implemented", "This server does not support that kind of request."),
    UNAVAILABLE(503, "unavailable", "The server is not taking requests right now; try again in a minute."),
    DATABASE_STARTING(
            503,
            "database_starting",
            "Your database is still starting; re-run the cell in a few seconds.",
            Retry.CONFIGURED),
    DATABASE_DELETING(
            503,
            "database_deleting",
            "Your previous database is being removed; re-run the cell in a few seconds.",
            Retry.CONFIGURED),
    PLAYGROUND_FULL(
            503, "playground_full", "The playground is full right now; try again in a few minutes.", Retry.MINUTE),
    PLAYGROUND_BUSY(
            503,
            "playground_busy",
            "The playground is starting many databases right now; re-run the cell in a few seconds.",
            Retry.CONFIGURED),
    /** Only for failures of the Kubernetes API itself: refused, timed out, or an error status. */
    CLUSTER_UNAVAILABLE(
            503,
            "cluster_unavailable",
            "The playground's cluster is not answering right now; try again in a minute.",
            Retry.CONFIGURED),
    /** Another request changed the same objects meanwhile, more often than this one retries. */
    CONFLICT(503, "conflict", "Another request changed this database at the same moment; try again.", Retry.CONFIGURED),
    SHUTTING_DOWN(
            503, "shutting_down", "The playground server is stopping; try again in a few seconds.", Retry.CONFIGURED),
    HTTP_VERSION_NOT_SUPPORTED(505, "http_version_not_supported", "This server does not support that kind of request.");

    /** Whether the answer carries Retry-After, and how long. */
    public enum Retry {
        NONE,
        /** playground.database.retry-after */
        CONFIGURED,
        MINUTE
    }

    private final int status;
    private final String code;
    private final String message;
    private final Retry retry;

    PlaygroundError(int status, String code, String message) {
        this(status, code, message, Retry.NONE);
    }

    PlaygroundError(int status, String code, String message, Retry retry) {
        this.status = status;
        this.code = code;
        this.message = message;
        this.retry = retry;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Retry retry() {
        return retry;
    }

    /** The sentence, with the arguments the entry's documentation names. */
    public String message(Object... arguments) {
        return arguments.length == 0 ? message : String.format(Locale.ROOT, message, arguments);
    }

    public PlaygroundException exception(Object... arguments) {
        return new PlaygroundException(this, message(arguments), null, null);
    }

    public PlaygroundException exception(Throwable cause) {
        return new PlaygroundException(this, message, null, cause);
    }

    /** For an answer whose Retry-After the thrower knows better than the catalogue. */
    public PlaygroundException retryingAfter(Duration retryAfter, Object... arguments) {
        return new PlaygroundException(this, message(arguments), retryAfter, null);
    }

    /** What the container answers for a status it produced itself, before any of our code ran. */
    public static PlaygroundError forStatus(int status) {
        return switch (status) {
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 408 -> REQUEST_TIMEOUT;
            case 411 -> LENGTH_REQUIRED;
            case 413 -> REQUEST_TOO_LARGE;
            case 414 -> URI_TOO_LONG;
            case 417 -> EXPECTATION_FAILED;
            case 501 -> NOT_IMPLEMENTED;
            case 503 -> UNAVAILABLE;
            case 505 -> HTTP_VERSION_NOT_SUPPORTED;
            default -> status < 500 ? BAD_REQUEST : INTERNAL_ERROR;
        };
    }
}
