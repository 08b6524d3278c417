package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.sqlflow.playground.testing.Waits.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.error.PlaygroundException;
import org.sqlflow.playground.testing.MockTestCluster;
import org.sqlflow.playground.testing.PlaygroundParts;

/** The provisioning scenarios on fabric8's mock API server (fast tier), which counts the requests it answers. */
class MockProvisioningTest extends ProvisioningScenarios {

    @Test
    void createDbForAKnownDatabaseIsAnsweredFromTheCacheUntilItChangesOrHalfATtlPasses() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        kubeletFor("alice");
        KnownDatabases known = p.knownDatabases;
        UserKey alice = UserKey.of("alice");
        String dataSource = known.createOrGet(alice).dataSource();
        await("the cache shows the ready root").until(() -> DatabaseRoot.isReady(p.directory.cached(alice)));
        assertThat(known.createOrGet(alice).dataSource()).isEqualTo(dataSource);

        MockTestCluster mock = (MockTestCluster) cluster;
        int before = mock.requestCount();
        DatabaseProvisioner.Provisioned cached = known.createOrGet(alice);
        assertThat(cached.dataSource()).isEqualTo(dataSource);
        assertThat(cached.created()).isFalse();
        assertThat(mock.requestCount()).as("API requests for a known database").isEqualTo(before);

        // Condemned by the reaper, as the cache shows: the full path runs and takes the condemnation back.
        cluster.admin()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .withName(alice.resourceName())
                .edit(d -> {
                    Map<String, String> a = new HashMap<>(d.getMetadata().getAnnotations());
                    a.put(PlaygroundLabels.REAPING, "2020-01-01T00:00:00Z");
                    d.getMetadata().setAnnotations(a);
                    return d;
                });
        await("the cache shows the condemnation")
                .until(() -> DatabaseRoot.of(p.directory.cached(alice)).isCondemned());
        assertThat(known.createOrGet(alice).dataSource()).isEqualTo(dataSource);
        assertThat(DatabaseRoot.of(p.roots.get(alice)).isCondemned())
                .as("condemnation taken back")
                .isFalse();

        // Half a TTL after the last full call, the full path runs again.
        await("the cache shows the rescue")
                .until(() -> !DatabaseRoot.of(p.directory.cached(alice)).isCondemned());
        known.createOrGet(alice);
        clock.advance(p.expiry.ttl().dividedBy(2));
        before = mock.requestCount();
        assertThat(known.createOrGet(alice).dataSource()).isEqualTo(dataSource);
        assertThat(mock.requestCount()).as("API requests after half a TTL").isGreaterThan(before);
    }

    @Test
    void aCreateDbInterruptedWhileItWaitsForReadinessAnswersShuttingDown() throws Exception {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        CompletableFuture<PlaygroundException> thrown = new CompletableFuture<>();
        AtomicBoolean keptInterrupted = new AtomicBoolean();
        // No kubelet: the database never becomes ready, so create_db waits for it until interrupted.
        Thread caller = new Thread(
                () -> {
                    try {
                        p.provisioner.createOrGet(UserKey.of("stopping"));
                        thrown.complete(null);
                    } catch (PlaygroundException e) {
                        keptInterrupted.set(Thread.currentThread().isInterrupted());
                        thrown.complete(e);
                    } catch (RuntimeException e) {
                        thrown.completeExceptionally(e);
                    }
                },
                "create_db");
        caller.start();
        await("create_db to wait for the database's readiness").until(() -> waitsForReadiness(caller));
        caller.interrupt();

        PlaygroundException e = thrown.get(30, TimeUnit.SECONDS);
        assertThat(e).as("create_db answered with an error").isNotNull();
        assertThat(e.code()).isEqualTo("shutting_down");
        assertThat(e.status()).isEqualTo(503);
        assertThat(e.retryAfter(Duration.ofSeconds(7)))
                .as("the configured Retry-After")
                .hasSeconds(7);
        assertThat(keptInterrupted)
                .as("the interrupt is kept for whoever stops the server")
                .isTrue();
        caller.join();
    }

    /**
     * Whether {@code thread} is parked in the shared readiness wait itself: the first frame of its stack outside the
     * JDK is {@link SharedWaits}, right below a {@link CompletableFuture}'s, and it stays waiting meanwhile.
     */
    private static boolean waitsForReadiness(Thread thread) {
        Thread.State before = thread.getState();
        StackTraceElement[] stack = thread.getStackTrace();
        boolean parked = before == Thread.State.TIMED_WAITING && thread.getState() == Thread.State.TIMED_WAITING;
        for (int i = 1; i < stack.length; i++) {
            String name = stack[i].getClassName();
            if (!name.startsWith("java.") && !name.startsWith("jdk.")) {
                return parked
                        && name.equals(SharedWaits.class.getName())
                        && stack[i - 1].getClassName().equals(CompletableFuture.class.getName());
            }
        }
        return false;
    }
}
