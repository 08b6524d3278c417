package org.sqlflow.playground.local;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;

/**
 * fabric8's mock API server in CRUD mode, on 127.0.0.1 only, answering only requests that carry its random
 * bearer token. It stores and watches objects like an API server but has no RBAC, no controllers and no
 * garbage collector: good for a local run and the fast test tier; the real-API tier covers the rest.
 */
public final class EmbeddedKubernetes implements AutoCloseable {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final KubernetesMockServer server;
    private final KubernetesClient client;

    private final CountingDispatcher dispatcher;

    public EmbeddedKubernetes() {
        this(new CountingDispatcher());
    }

    /** With a dispatcher of the caller's, e.g. one that fails chosen requests to test fault handling. */
    public EmbeddedKubernetes(CountingDispatcher dispatcher) {
        this(dispatcher, null);
    }

    /** @param token the bearer token every request must carry; null or blank for a random one */
    public EmbeddedKubernetes(CountingDispatcher dispatcher, String token) {
        this.dispatcher = dispatcher;
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        try {
            server.init(InetAddress.getByName("127.0.0.1"), 0);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("127.0.0.1 is always resolvable", e);
        }
        // A random bearer token, required on every request (CountingDispatcher#requireBearerToken): the server
        // is plain HTTP on loopback, reachable by every local user. Our client is the only one that knows it.
        if (token == null || token.isBlank()) {
            byte[] secret = new byte[32];
            RANDOM.nextBytes(secret);
            token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        }
        dispatcher.requireBearerToken(token);
        try (KubernetesClient plain = server.createClient()) {
            client = new KubernetesClientBuilder()
                    .withConfig(new ConfigBuilder(plain.getConfiguration())
                            .withOauthToken(token)
                            .build())
                    .build();
        }
    }

    public KubernetesClient client() {
        return client;
    }

    /** Requests the server has received; the tests and the benchmark count API calls with it. */
    public int requestCount() {
        return server.getRequestCount();
    }

    /** Requests by "VERB resource". */
    public CountingDispatcher requests() {
        return dispatcher;
    }

    public String url() {
        return client.getConfiguration().getMasterUrl();
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }
}
