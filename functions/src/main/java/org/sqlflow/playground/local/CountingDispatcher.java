package org.sqlflow.playground.local;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * The embedded API server's dispatcher, counting requests by verb and resource ("PATCH configmaps",
 * "GET deployments/status"), so the benchmark and the tests can say how many API calls a beat costs.
 */
public class CountingDispatcher extends KubernetesCrudDispatcher {

    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    private volatile BiConsumer<String, LongAdder> onNewKind = (k, c) -> {};
    private volatile byte[] expectedAuthorization;

    /**
     * From now on, answers 401 to every request that does not carry {@code Authorization: Bearer <token>}: the
     * embedded API server listens on loopback, where any local user could otherwise read every Secret.
     */
    public void requireBearerToken(String token) {
        this.expectedAuthorization = ("Bearer " + token).getBytes(StandardCharsets.US_ASCII);
    }

    /** Called once for each new "VERB resource" seen, e.g. to register a metric. */
    public void onNewKind(BiConsumer<String, LongAdder> listener) {
        this.onNewKind = listener;
        counts.forEach(listener);
    }

    public Map<String, Long> counts() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        byte[] expected = expectedAuthorization;
        if (expected != null) {
            String given = request.getHeader("Authorization");
            if (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.US_ASCII))) {
                return new MockResponse()
                        .setResponseCode(401)
                        .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                                + "\"status\":\"Failure\",\"reason\":\"Unauthorized\",\"code\":401}");
            }
        }
        String kind = request.getMethod() + " " + resourceOf(request.getPath());
        counts.computeIfAbsent(kind, k -> {
                    LongAdder adder = new LongAdder();
                    onNewKind.accept(k, adder);
                    return adder;
                })
                .increment();
        return super.dispatch(request);
    }

    /** "/api/v1/namespaces/ns/configmaps/x?y" → "configmaps"; ".../deployments/x/status" → "deployments/status". */
    static String resourceOf(String path) {
        int q = path.indexOf('?');
        String[] parts = (q < 0 ? path : path.substring(0, q)).split("/");
        for (int i = 0; i + 2 < parts.length; i++) {
            if (parts[i].equals("namespaces")) {
                String resource = parts[i + 2];
                return i + 4 < parts.length ? resource + "/" + parts[i + 4] : resource;
            }
        }
        return parts.length > 0 ? parts[parts.length - 1] : path;
    }
}
