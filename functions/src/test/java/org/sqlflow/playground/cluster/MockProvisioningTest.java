package org.sqlflow.playground.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.sqlflow.playground.testing.Waits.await;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.sqlflow.playground.testing.MockTestCluster;
import org.sqlflow.playground.testing.PlaygroundParts;

/** The provisioning scenarios on fabric8's mock API server (fast tier), which counts the requests it answers. */
class MockProvisioningTest extends ProvisioningScenarios {

    @Test
    void createDbForAKnownDatabaseIsAnsweredFromTheCacheUntilItChangesOrHalfATtlPasses() {
        PlaygroundParts p = playground(STARTS_WITHIN, 100);
        kubeletFor("alice");
        KnownDatabases known = new KnownDatabases(p.provisioner, p.directory, p.ledger, p.expiry, clock);
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
        cluster.admin().apps().deployments().inNamespace(cluster.namespace()).withName(alice.resourceName()).edit(d -> {
            Map<String, String> a = new HashMap<>(d.getMetadata().getAnnotations());
            a.put(PlaygroundLabels.REAPING, "2020-01-01T00:00:00Z");
            d.getMetadata().setAnnotations(a);
            return d;
        });
        await("the cache shows the condemnation")
                .until(() -> DatabaseRoot.of(p.directory.cached(alice)).isCondemned());
        assertThat(known.createOrGet(alice).dataSource()).isEqualTo(dataSource);
        assertThat(DatabaseRoot.of(p.roots.get(alice)).isCondemned()).as("condemnation taken back").isFalse();

        // Half a TTL after the last full call, the full path runs again.
        await("the cache shows the rescue").until(() -> !DatabaseRoot.of(p.directory.cached(alice)).isCondemned());
        known.createOrGet(alice);
        clock.advance(p.expiry.ttl().dividedBy(2));
        before = mock.requestCount();
        assertThat(known.createOrGet(alice).dataSource()).isEqualTo(dataSource);
        assertThat(mock.requestCount()).as("API requests after half a TTL").isGreaterThan(before);
    }
}
