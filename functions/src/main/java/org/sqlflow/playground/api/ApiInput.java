package org.sqlflow.playground.api;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.error.PlaygroundError;
import org.sqlflow.playground.error.PlaygroundException;
import org.sqlflow.playground.identity.CallerIdentity;
import org.sqlflow.playground.identity.IdentityResolver;
import org.sqlflow.playground.listing.DatabaseListing;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a request asks for, read the way the real SQLFlow client sends it (create_db: JSON under a form content
 * type; heart_beat: the id pasted unencoded after {@code user_id=}), strictly (one JSON object, no repeated field,
 * a bounded body) and with a stable error code for each way it can be wrong; and whether its caller's identity
 * may ask it. The answer is the function's input as canonical JSON.
 */
public final class ApiInput {

    /** A request that may go on: the function's input as JSON, and for whom and by whom (create_db, heart_beat). */
    record Checked(String json, String userId, CallerIdentity caller) {}

    private static final Set<String> BODY_TYPES =
            Set.of("application/x-www-form-urlencoded", "application/json", "text/plain");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final int maxBodyBytes;
    private final IdentityResolver identities;
    private final boolean reaperTrigger;

    public ApiInput(int maxBodyBytes, IdentityResolver identities, boolean reaperTrigger) {
        this.maxBodyBytes = maxBodyBytes;
        this.identities = identities;
        this.reaperTrigger = reaperTrigger;
    }

    Checked check(Endpoint endpoint, HttpServletRequest request) throws IOException {
        if (endpoint == Endpoint.REAP_STALE) {
            boolean detail = authorizeReaper(request);
            return new Checked(
                    JSON.writeValueAsString(Map.of("dry_run", dryRun(request), "detail", detail)), null, null);
        }
        if (endpoint == Endpoint.DATABASES) {
            Map<String, Object> page = pageFromQuery(request.getQueryString());
            CallerIdentity caller = identities.resolve(request).orElseThrow(this::unauthenticated);
            if (!caller.admin()) {
                throw PlaygroundError.ADMIN_ONLY_LISTING.exception();
            }
            return new Checked(JSON.writeValueAsString(page), null, caller);
        }
        String userId =
                endpoint == Endpoint.CREATE_DB ? userIdFromBody(request) : userIdFromQuery(request.getQueryString());
        CallerIdentity caller = authorize(request, userId);
        return new Checked(JSON.writeValueAsString(Map.of("user_id", userId)), userId, caller);
    }

    private boolean dryRun(HttpServletRequest request) throws IOException {
        byte[] body = readBody(request);
        if (body.length == 0) {
            return false;
        }
        JsonNode flag = parseObject(body).get("dry_run");
        if (flag != null && !flag.isBoolean()) {
            throw PlaygroundError.INVALID_DRY_RUN.exception();
        }
        return flag != null && flag.booleanValue();
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
        JsonNode id = parseObject(body).get("user_id");
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
        if (request.getContentLengthLong() > maxBodyBytes) {
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

    /**
     * GET /api/databases?after=ID&limit=N: both optional, each at most once; other parameters are ignored, as
     * heart_beat ignores them.
     */
    static Map<String, Object> pageFromQuery(String query) {
        Map<String, List<String>> values = new HashMap<>();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                String[] kv = pair.split("=", 2);
                try {
                    String key = URLDecoder.decode(kv[0], StandardCharsets.UTF_8);
                    if (key.equals("after") || key.equals("limit")) {
                        values.computeIfAbsent(key, k -> new ArrayList<>())
                                .add(kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
                    }
                } catch (IllegalArgumentException e) {
                    throw PlaygroundError.INVALID_QUERY.exception();
                }
            }
        }
        List<String> after = values.getOrDefault("after", List.of());
        List<String> limit = values.getOrDefault("limit", List.of());
        if (after.size() > 1
                || limit.size() > 1
                || (after.size() == 1 && !UserKey.isValidUserId(after.get(0)))
                || (limit.size() == 1 && !limit.get(0).matches("[1-9][0-9]{0,2}"))) {
            throw PlaygroundError.INVALID_PAGE.exception();
        }
        int size = limit.isEmpty() ? DatabaseListing.MAX_PAGE : Integer.parseInt(limit.get(0));
        if (size > DatabaseListing.MAX_PAGE) {
            throw PlaygroundError.INVALID_PAGE.exception();
        }
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("after", after.isEmpty() ? null : after.get(0));
        page.put("limit", size);
        return page;
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
