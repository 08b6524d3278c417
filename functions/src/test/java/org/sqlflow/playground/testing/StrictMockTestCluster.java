package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.sqlflow.playground.local.CountingDispatcher;
import org.sqlflow.playground.local.EmbeddedKubernetes;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The fast tier's cluster for the reaper: fabric8's mock server in CRUD mode, made to honour two parts of the
 * API contract the reaper's correctness rests on and the stock mock server (7.5.2) ignores:
 * <ul>
 * <li>{@code DeleteOptions.preconditions} (resourceVersion, uid): the stock mock deletes regardless, so a
 *     heartbeat's rescue could never win a race against the reaper's delete there;</li>
 * <li>paged lists ({@code limit} and {@code continue}): the stock mock returns everything in one page.</li>
 * </ul>
 * Everything else is the stock mock: no RBAC, no controllers, no garbage collector.
 */
public final class StrictMockTestCluster extends MockTestCluster {

    /** The mock server logs every request at INFO through java.util.logging; kept here so the level sticks. */
    private static final java.util.logging.Logger MOCK_LOG =
            java.util.logging.Logger.getLogger(MockWebServer.class.getName());

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private final StrictDispatcher dispatcher;

    public StrictMockTestCluster(String namespace) {
        this(new StrictDispatcher(), namespace);
    }

    public StrictMockTestCluster() {
        this("playground-test");
    }

    /** The embedded API server's bearer token, known here so createInProcess can carry it. */
    private static final String TOKEN = java.util.UUID.randomUUID().toString();

    private StrictMockTestCluster(StrictDispatcher dispatcher, String namespace) {
        super(new EmbeddedKubernetes(dispatcher, TOKEN), namespace);
        this.dispatcher = dispatcher;
    }

    /** List requests that asked for a page (carried a limit). */
    public int pagedListCount() {
        return dispatcher.pagedLists.get();
    }

    /** The DeleteOptions body of every delete request, by request path. */
    public List<Map.Entry<String, String>> deleteBodies() {
        return List.copyOf(dispatcher.deleteBodies);
    }

    /** Deletes refused because a precondition did not hold. */
    public int refusedDeleteCount() {
        return dispatcher.refusedDeletes.get();
    }

    /**
     * Stores objects the way a create request would, without the HTTP round trip (for bulk set-up only): the mock
     * server still assigns uid, resourceVersion and creationTimestamp.
     */
    public void createInProcess(Collection<? extends HasMetadata> objects) {
        Headers headers = Headers.builder()
                .add("Content-Type", "application/json")
                .add("Authorization", "Bearer " + TOKEN)
                .build();
        for (HasMetadata object : objects) {
            String apiVersion = object.getApiVersion();
            String path = (apiVersion.contains("/") ? "/apis/" : "/api/") + apiVersion + "/namespaces/" + namespace()
                    + "/" + HasMetadata.getPlural(object.getClass());
            MockResponse response = dispatcher.dispatch(new RecordedRequest(
                    "HTTP/1.1",
                    HttpMethod.POST,
                    path,
                    headers,
                    new Buffer(Serialization.asJson(object).getBytes(StandardCharsets.UTF_8))));
            if (response.code() >= 300) {
                throw new IllegalStateException(
                        "creating " + object.getMetadata().getName() + " failed: " + response.code());
            }
        }
    }

    private static final class StrictDispatcher extends CountingDispatcher {

        private static final JsonMapper JSON = JsonMapper.builder().build();

        final AtomicInteger pagedLists = new AtomicInteger();
        final AtomicInteger refusedDeletes = new AtomicInteger();
        final List<Map.Entry<String, String>> deleteBodies = new ArrayList<>();

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            // One request at a time: "check the precondition, then delete" is atomic as in the API server, and the
            // name index below never sees a half-done write.
            synchronized (this) {
                String method = request.getMethod().toUpperCase();
                if (method.equals("GET")) {
                    Map<String, String> query = query(request.getPath());
                    if (query.containsKey("limit") && !"true".equals(query.get("watch"))) {
                        pagedLists.incrementAndGet();
                        return page(request.getPath(), query);
                    }
                } else if (method.equals("DELETE")) {
                    MockResponse refused = checkPreconditions(request);
                    if (refused != null) {
                        refusedDeletes.incrementAndGet();
                        return refused;
                    }
                }
                return super.dispatch(request);
            }
        }

        // The stock dispatcher finds an object by scanning every stored object, which makes set-up of 10,000
        // databases quadratic. Every change of its store goes through processEvent, so an index by name kept
        // there is complete; each hit is still checked against the store, and a key the index cannot
        // reproduce switches it off (back to scanning) rather than answering wrong.

        private final Map<String, Set<AttributeSet>> byName = new HashMap<>();
        private boolean indexBroken;

        @Override
        public void processEvent(
                String path,
                AttributeSet pathAttributes,
                AttributeSet oldAttributes,
                GenericKubernetesResource resource,
                String value) {
            super.processEvent(path, pathAttributes, oldAttributes, resource, value);
            if (oldAttributes != null) {
                Set<AttributeSet> keys = byName.get(value(oldAttributes, "name"));
                if (keys != null) {
                    keys.remove(oldAttributes);
                }
            }
            if (value != null) {
                KubernetesAttributesExtractor extractor = (KubernetesAttributesExtractor) attributeExtractor;
                AttributeSet key = resource != null ? extractor.extract(resource) : extractor.fromResource(value);
                if (!key.containsKey(KubernetesAttributesExtractor.PLURAL)) {
                    key = AttributeSet.merge(pathAttributes, key);
                }
                if (map.containsKey(key)) {
                    byName.computeIfAbsent(value(key, "name"), n -> new HashSet<>())
                            .add(key);
                } else {
                    indexBroken = true;
                }
            }
        }

        @Override
        public Map.Entry<AttributeSet, String> findResource(AttributeSet query) {
            if (indexBroken || !query.containsKey(KubernetesAttributesExtractor.NAME)) {
                return super.findResource(query);
            }
            for (AttributeSet key : byName.getOrDefault(value(query, "name"), Set.of())) {
                String stored = map.get(key);
                if (stored != null && key.matches(query)) {
                    return new AbstractMap.SimpleImmutableEntry<>(key, stored);
                }
            }
            return null;
        }

        /** The stock delete without its scan, for the common case (by name, no finalizers). */
        @Override
        public MockResponse handleDelete(String path) {
            AttributeSet query = attributeExtractor.fromPath(path);
            if (indexBroken || !query.containsKey(KubernetesAttributesExtractor.NAME)) {
                return super.handleDelete(path);
            }
            Map.Entry<AttributeSet, String> found = findResource(query);
            if (found == null) {
                return new MockResponse().setResponseCode(404);
            }
            try {
                if (!JSON.readTree(found.getValue())
                        .path("metadata")
                        .path("finalizers")
                        .isEmpty()) {
                    return super.handleDelete(path);
                }
            } catch (JacksonException e) {
                throw new IllegalStateException("unreadable JSON in the mock server", e);
            }
            processEvent(path, query, found.getKey(), null, null);
            return new MockResponse().setResponseCode(200).setBody(found.getValue());
        }

        @Override
        public MockResponse handleGet(String path) {
            AttributeSet query = attributeExtractor.fromPath(path);
            if (indexBroken || !query.containsKey(KubernetesAttributesExtractor.NAME)) {
                return super.handleGet(path);
            }
            Map.Entry<AttributeSet, String> found = findResource(query);
            return found == null
                    ? new MockResponse().setResponseCode(404)
                    : new MockResponse().setResponseCode(200).setBody(found.getValue());
        }

        private MockResponse checkPreconditions(RecordedRequest request) {
            String body = request.getBody() == null || request.getBody().size() == 0 ? "" : request.getUtf8Body();
            deleteBodies.add(new AbstractMap.SimpleImmutableEntry<>(withoutQuery(request.getPath()), body));
            if (body.isBlank()) {
                return null;
            }
            try {
                JsonNode preconditions = JSON.readTree(body).path("preconditions");
                if (preconditions.isMissingNode() || preconditions.isNull()) {
                    return null;
                }
                MockResponse current = handleGet(withoutQuery(request.getPath()));
                if (current.code() != 200) {
                    return null; // the stock handler answers 404
                }
                JsonNode meta = JSON.readTree(current.getBody().readUtf8()).path("metadata");
                String wantVersion = preconditions.path("resourceVersion").asString(null);
                String wantUid = preconditions.path("uid").asString(null);
                if (wantVersion != null
                        && !wantVersion.equals(meta.path("resourceVersion").asString())) {
                    return conflict("Precondition failed: ResourceVersion in precondition: " + wantVersion
                            + ", ResourceVersion in object meta: "
                            + meta.path("resourceVersion").asString());
                }
                if (wantUid != null && !wantUid.equals(meta.path("uid").asString())) {
                    return conflict("Precondition failed: UID in precondition: " + wantUid + ", UID in object meta: "
                            + meta.path("uid").asString());
                }
                return null;
            } catch (JacksonException e) {
                throw new IllegalStateException("unreadable JSON in the mock server", e);
            }
        }

        /**
         * The API server's order (by namespace and name), cut into pages. Like the API server's, the continue token
         * names the last key returned, so deletions between pages do not shift the next page.
         */
        private MockResponse page(String path, Map<String, String> query) {
            AttributeSet wanted = attributeExtractor.fromPath(path);
            TreeMap<String, String> matching = new TreeMap<>();
            for (Map.Entry<AttributeSet, String> e : map.entrySet()) {
                if (e.getKey().matches(wanted)) {
                    matching.put(key(e.getKey()), e.getValue());
                }
            }
            int limit = Integer.parseInt(query.get("limit"));
            String after = query.get("continue");
            SortedMap<String, String> rest = after == null ? matching : matching.tailMap(after, false);
            List<String> slice = new ArrayList<>(limit);
            String last = null;
            for (Map.Entry<String, String> e : rest.entrySet()) {
                if (slice.size() == limit) {
                    break;
                }
                slice.add(e.getValue());
                last = e.getKey();
            }
            int remaining = rest.size() - slice.size();
            try {
                ObjectNode list = (ObjectNode) JSON.readTree(responseComposer.compose(slice));
                ObjectNode meta = list.get("metadata") instanceof ObjectNode m ? m : list.putObject("metadata");
                if (remaining > 0) {
                    meta.put("continue", last);
                    meta.put("remainingItemCount", remaining);
                }
                return new MockResponse().setResponseCode(200).setBody(JSON.writeValueAsString(list));
            } catch (JacksonException e) {
                throw new IllegalStateException("unreadable JSON in the mock server", e);
            }
        }

        private static String key(AttributeSet attributes) {
            return value(attributes, "namespace") + "/" + value(attributes, "name");
        }

        private static String value(AttributeSet attributes, String key) {
            Attribute a = attributes.getAttribute(key);
            return a == null || a.getValues().isEmpty()
                    ? ""
                    : a.getValues().get(0).toString();
        }

        private static MockResponse conflict(String message) {
            Map<String, Object> status = new LinkedHashMap<>();
            status.put("apiVersion", "v1");
            status.put("kind", "Status");
            status.put("status", "Failure");
            status.put("message", message);
            status.put("reason", "Conflict");
            status.put("code", 409);
            try {
                return new MockResponse().setResponseCode(409).setBody(JSON.writeValueAsString(status));
            } catch (JacksonException e) {
                throw new IllegalStateException(e);
            }
        }

        private static String withoutQuery(String path) {
            int q = path.indexOf('?');
            return q < 0 ? path : path.substring(0, q);
        }

        private static Map<String, String> query(String path) {
            Map<String, String> out = new HashMap<>();
            String raw = URI.create(path).getRawQuery();
            if (raw == null || raw.isEmpty()) {
                return out;
            }
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                out.put(key, value);
            }
            return out;
        }
    }
}
