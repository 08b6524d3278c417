package org.sqlflow.playground.bench;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;

/**
 * Bench-only setup, straight to the Kubernetes API the server uses (never through the playground): database
 * roots as slim Deployments with the playground's labels and user-id annotation, and beats merge-patched into
 * the heartbeat ConfigMaps. create_db would also store a first beat for each user, and 100,000 of them through
 * the API take far longer than a TTL short enough to wait for.
 */
final class Shortcuts {

    private Shortcuts() {}

    /** A Deployment the playground takes for {@code userId}'s database root. */
    static Deployment slimRoot(String userId, String namespace) {
        UserKey user = UserKey.of(userId);
        Map<String, String> labels = PlaygroundLabels.database(user);
        return new DeploymentBuilder()
                .withNewMetadata()
                .withName(user.resourceName())
                .withNamespace(namespace)
                .withLabels(labels)
                .addToAnnotations(PlaygroundLabels.USER_ID, userId)
                .endMetadata()
                .withNewSpec()
                .withReplicas(1)
                .withNewSelector()
                .addToMatchLabels(PlaygroundLabels.USER, user.key())
                .endSelector()
                .withNewTemplate()
                .withNewMetadata()
                .withLabels(labels)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("mysql")
                .withImage("bench")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    /** Creates the roots of {@code users} (several connections at once); returns the seconds it took. */
    static double createRoots(Server s, String[] users) throws Exception {
        return createRoots(s::kubernetes, s.realApi != null ? 16 : 4, s.namespace, users);
    }

    /** The same straight to a real API server, before any playground server runs. */
    static double createRoots(KubernetesApi api, String namespace, String[] users) throws Exception {
        return createRoots(() -> api.client().open(), 16, namespace, users);
    }

    /** Opens a connection to the Kubernetes API. */
    private interface Opener {
        Connection open() throws IOException;
    }

    private static double createRoots(Opener api, int threads, String namespace, String[] users) throws Exception {
        long t0 = System.nanoTime();
        AtomicInteger next = new AtomicInteger();
        AtomicReference<String> error = new AtomicReference<>();
        Thread[] ts = new Thread[threads];
        String path = "/apis/apps/v1/namespaces/" + namespace + "/deployments";
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                try (Connection c = api.open()) {
                    int i;
                    while ((i = next.getAndIncrement()) < users.length && error.get() == null) {
                        String body = KubernetesApi.SERIALIZATION.asJson(slimRoot(users[i], namespace));
                        Connection.Response r = c.send("POST", path, body, Connection.JSON);
                        if (r.status() != 201 && r.status() != 200) {
                            error.compareAndSet(null, r.status() + " " + r.body());
                        }
                    }
                } catch (Exception e) {
                    error.compareAndSet(null, String.valueOf(e));
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join(TimeUnit.MINUTES.toMillis(30));
        }
        if (error.get() != null) {
            throw new IllegalStateException("creating roots: " + error.get());
        }
        return Format.round((System.nanoTime() - t0) / 1e9, 1);
    }

    /** A beat "now" for each of {@code users}, merge-patched into their shards' ConfigMaps (made if missing). */
    static void writeBeats(Server s, String[] users, int shards) throws Exception {
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        List<Map<String, String>> byShard = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            byShard.add(new LinkedHashMap<>());
        }
        for (String u : users) {
            UserKey user = UserKey.of(u);
            byShard.get(user.shard(shards)).put(user.key(), now);
        }
        String path = "/api/v1/namespaces/" + s.namespace + "/configmaps";
        try (Connection c = s.kubernetes()) {
            for (int i = 0; i < shards; i++) {
                String name =
                        HeartbeatLedger.NAME_PREFIX + String.format(Locale.ROOT, shards <= 100 ? "%02d" : "%03d", i);
                Connection.Response r = c.send(
                        "PATCH",
                        path + "/" + name,
                        Json.compact(Map.of("data", byShard.get(i))),
                        Connection.MERGE_PATCH);
                if (r.status() == 404) {
                    String body = KubernetesApi.SERIALIZATION.asJson(new ConfigMapBuilder()
                            .withNewMetadata()
                            .withName(name)
                            .withLabels(PlaygroundLabels.common(PlaygroundLabels.COMPONENT_HEARTBEATS))
                            .endMetadata()
                            .withData(byShard.get(i))
                            .build());
                    r = c.send("POST", path, body, Connection.JSON);
                }
                if (r.status() / 100 != 2) {
                    throw new IllegalStateException("writing beats into " + name + ": " + r.status() + " " + r.body());
                }
            }
        }
    }
}
