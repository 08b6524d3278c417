package org.sqlflow.playground.api;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.web.filter.OncePerRequestFilter;
import org.sqlflow.playground.PlaygroundError;
import org.sqlflow.playground.PlaygroundException;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.identity.CallerIdentity;
import org.sqlflow.playground.identity.IdentityResolver;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The API port's front door. It answers every request that is not exactly one of our endpoints with a JSON
 * 404 or 405, reads the body the way the real SQLFlow client sends it (JSON under a form content type),
 * validates the user id, checks the caller's certificate allows acting for that user, and only then hands a
 * canonical JSON request to spring-cloud-function-web. Errors from the functions come back here as JSON.
 *
 * <p>heart_beat, the one hot path (every open notebook, every few minutes, each on a new connection), is
 * answered here by calling the same heart_beat function directly: going through spring-cloud-function-web
 * cost an async dispatch, a function-catalog lookup and message conversion per beat, more CPU than the beat's
 * own work (measured by bench/). create_db is answered here too, inside a slot of {@link InFlightLimits}, so
 * that the slot is held exactly as long as the function runs on this request thread; its reply carries
 * {@code Cache-Control: no-store} (it holds the database password). reap_stale still goes through
 * spring-cloud-function-web.
 */
public class ApiEdgeFilter extends OncePerRequestFilter {

    private static final Set<String> BODY_TYPES = Set.of("application/x-www-form-urlencoded", "application/json",
            "text/plain");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Set<String> servedFunctions;
    private final int maxBodyBytes;
    private final IdentityResolver identities;
    private final boolean reaperTrigger;
    private final Duration retryAfter;
    private final MeterRegistry meters;
    private final Function<UserRequest, HeartBeatReply> heartBeat;
    private final Function<UserRequest, CreateDbReply> createDb;
    private final InFlightLimits limits;

    /**
     * @param heartBeat the heart_beat function, answered directly; null to leave it to the chain
     * @param createDb the create_db function, answered directly within {@code limits}; null to leave it to the chain
     */
    public ApiEdgeFilter(Set<String> servedFunctions, int maxBodyBytes, IdentityResolver identities,
            boolean reaperTrigger, Duration retryAfter, MeterRegistry meters,
            Function<UserRequest, HeartBeatReply> heartBeat, Function<UserRequest, CreateDbReply> createDb,
            InFlightLimits limits) {
        this.servedFunctions = servedFunctions;
        this.maxBodyBytes = maxBodyBytes;
        this.identities = identities;
        this.reaperTrigger = reaperTrigger;
        this.retryAfter = retryAfter;
        this.meters = meters;
        this.heartBeat = heartBeat;
        this.createDb = createDb;
        this.limits = limits;
    }

    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        // Container-level errors (e.g. a malformed request line) must leave as our JSON too.
        return false;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request.getDispatcherType() == DispatcherType.ERROR) {
            Object status = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
            int code = status instanceof Integer i ? i : 500;
            ApiErrors.write(response, PlaygroundError.forStatus(code));
            return;
        }
        Timer.Sample sample = Timer.start(meters);
        String endpointTag = "none";
        HttpServletResponse guarded = new HeaderAllowlistResponse(response);
        try {
            Endpoint endpoint = route(request);
            endpointTag = endpoint.function();
            if (endpoint == Endpoint.HEART_BEAT && heartBeat != null) {
                String userId = userIdFromQuery(request.getQueryString());
                authorize(request, userId);
                writeJson(guarded, JSON.writeValueAsBytes(heartBeat.apply(new UserRequest(userId))));
                return;
            }
            if (endpoint == Endpoint.CREATE_DB && createDb != null) {
                String userId = userIdFromBody(request);
                CallerIdentity caller = authorize(request, userId);
                byte[] reply;
                InFlightLimits.Permit permit = limits.acquire(userId, caller);
                try {
                    reply = JSON.writeValueAsBytes(createDb.apply(new UserRequest(userId)));
                } finally {
                    permit.close();
                }
                // The reply holds the database password: no cache along the way may keep it.
                guarded.setHeader("Cache-Control", "no-store");
                writeJson(guarded, reply);
                return;
            }
            byte[] canonical = canonicalBody(endpoint, request);
            chain.doFilter(new CanonicalRequest(request, canonical), guarded);
        } catch (PlaygroundException e) {
            fail(guarded, e, endpointTag);
        } catch (ServletException | RuntimeException e) {
            fail(guarded, ApiErrors.classify(e), endpointTag);
        } finally {
            sample.stop(meters.timer("playground.api.requests", "endpoint", endpointTag,
                    "status", Integer.toString(response.getStatus())));
        }
    }

    private static void writeJson(HttpServletResponse response, byte[] body) throws IOException {
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("application/json");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    private void fail(HttpServletResponse response, PlaygroundException e, String endpoint) throws IOException {
        meters.counter("playground.api.errors", "endpoint", endpoint, "code", e.code()).increment();
        ApiErrors.write(response, e, retryAfter);
    }

    private Endpoint route(HttpServletRequest request) {
        Optional<Endpoint> found = Endpoint.forPath(request.getRequestURI())
                .filter(e -> servedFunctions.contains(e.function()));
        if (found.isEmpty()) {
            throw PlaygroundError.NOT_FOUND.exception();
        }
        Endpoint endpoint = found.get();
        if (!endpoint.method().equals(request.getMethod())) {
            throw PlaygroundError.WRONG_METHOD.exception(endpoint.path(), endpoint.method());
        }
        return endpoint;
    }

    private byte[] canonicalBody(Endpoint endpoint, HttpServletRequest request) throws IOException {
        switch (endpoint) {
            case CREATE_DB -> {
                String userId = userIdFromBody(request);
                authorize(request, userId);
                return JSON.writeValueAsBytes(Map.of("user_id", userId));
            }
            case HEART_BEAT -> {
                String userId = userIdFromQuery(request.getQueryString());
                authorize(request, userId);
                return JSON.writeValueAsBytes(Map.of("user_id", userId));
            }
            case REAP_STALE -> {
                boolean detail = authorizeReaper(request);
                byte[] body = readBody(request);
                boolean dryRun = false;
                if (body.length > 0) {
                    JsonNode node = parseObject(body);
                    JsonNode flag = node.get("dry_run");
                    if (flag != null && !flag.isBoolean()) {
                        throw PlaygroundError.INVALID_DRY_RUN.exception();
                    }
                    dryRun = flag != null && flag.booleanValue();
                }
                return JSON.writeValueAsBytes(Map.of("dry_run", dryRun, "detail", detail));
            }
            default -> throw new IllegalStateException("unrouted endpoint " + endpoint);
        }
    }

    private String userIdFromBody(HttpServletRequest request) throws IOException {
        String contentType = request.getContentType();
        if (contentType != null) {
            String base = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
            if (!base.isEmpty() && !BODY_TYPES.contains(base)) {
                throw PlaygroundError.UNSUPPORTED_MEDIA_TYPE.exception();
            }
        }
        byte[] body = readBody(request);
        if (body.length == 0) {
            throw PlaygroundError.MISSING_BODY.exception();
        }
        JsonNode node = parseObject(body);
        JsonNode id = node.get("user_id");
        if (id == null || id.isNull()) {
            throw PlaygroundError.MISSING_USER_ID_IN_BODY.exception();
        }
        if (!id.isString()) {
            throw invalidUserId();
        }
        return validUserId(id.stringValue());
    }

    private static JsonNode parseObject(byte[] body) {
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JacksonException e) {
            if (String.valueOf(e.getOriginalMessage()).startsWith("Duplicate")) {
                throw PlaygroundError.REPEATED_FIELD.exception();
            }
            throw PlaygroundError.INVALID_JSON.exception();
        }
        if (node == null || !node.isObject()) {
            throw PlaygroundError.BODY_NOT_OBJECT.exception();
        }
        return node;
    }

    private byte[] readBody(HttpServletRequest request) throws IOException {
        long declared = request.getContentLengthLong();
        if (declared > maxBodyBytes) {
            throw tooLarge();
        }
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(maxBodyBytes + 1);
            if (body.length > maxBodyBytes) {
                throw tooLarge();
            }
            return body;
        }
    }

    private PlaygroundException tooLarge() {
        return PlaygroundError.BODY_TOO_LARGE.exception(maxBodyBytes);
    }

    static String userIdFromQuery(String query) {
        List<String> ids = new ArrayList<>();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                String[] kv = pair.split("=", 2);
                String key;
                String value;
                try {
                    key = URLDecoder.decode(kv[0], StandardCharsets.UTF_8);
                    value = kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "";
                } catch (IllegalArgumentException e) {
                    throw PlaygroundError.INVALID_QUERY.exception();
                }
                if (key.equals("user_id")) {
                    ids.add(value);
                }
            }
        }
        if (ids.isEmpty()) {
            throw PlaygroundError.MISSING_USER_ID_IN_QUERY.exception();
        }
        if (ids.size() > 1) {
            throw PlaygroundError.REPEATED_USER_ID.exception();
        }
        return validUserId(ids.get(0));
    }

    private static String validUserId(String id) {
        if (!UserKey.isValidUserId(id)) {
            throw invalidUserId();
        }
        return id;
    }

    private static PlaygroundException invalidUserId() {
        return PlaygroundError.INVALID_USER_ID.exception();
    }

    private CallerIdentity authorize(HttpServletRequest request, String userId) {
        CallerIdentity caller = identities.resolve(request).orElseThrow(this::unauthenticated);
        if (!caller.mayActFor(userId)) {
            throw PlaygroundError.FORBIDDEN_USER.exception();
        }
        return caller;
    }

    /**
     * Who may sweep, and whether the reply may name users: the reaper's CronJob (the reaper instance's own proof,
     * no identity) gets counts only, since the Job's log is readable more widely than the reaper's; an admin
     * certificate gets the full report.
     *
     * @return whether the reply carries per-user detail
     */
    private boolean authorizeReaper(HttpServletRequest request) {
        if (reaperTrigger) {
            if (!identities.provenByGateway(request)) {
                throw unauthenticated();
            }
            return false;
        }
        CallerIdentity caller = identities.resolve(request).orElseThrow(this::unauthenticated);
        if (!caller.admin()) {
            throw PlaygroundError.ADMIN_ONLY.exception();
        }
        return true;
    }

    private PlaygroundException unauthenticated() {
        return (identities.gatewayMode() ? PlaygroundError.UNAUTHENTICATED_AT_GATEWAY : PlaygroundError.UNAUTHENTICATED)
                .exception();
    }
}
