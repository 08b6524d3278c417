package org.sqlflow.playground.listing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.sqlflow.playground.testing.Waits.await;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.testing.ClusterScenarios;
import org.sqlflow.playground.testing.PlaygroundParts;

/**
 * The listing against a Kubernetes API, built as GET /api/databases builds it, on its own client (in the real-API
 * tier: its own ServiceAccount under its Role in knative/rbac.yaml, whose every verb these scenarios use): the
 * databases create_db made, the beats heart_beat stored, the pool, and a reaper's condemnation.
 */
public abstract class ListingScenarios extends ClusterScenarios {

    private PlaygroundParts parts() {
        return playground(
                cluster.database(Duration.ZERO, 100), Duration.ZERO, new WarmPool.Settings(0, Duration.ofMinutes(10)));
    }

    @Test
    void theListingShowsEachDatabaseWithTheBeatHeartBeatStored() {
        PlaygroundParts p = parts();
        for (String user : List.of("ann", "ben")) {
            cluster.admin()
                    .apps()
                    .deployments()
                    .inNamespace(cluster.namespace())
                    .resource(p.objects.root(UserKey.of(user)))
                    .create();
        }
        cluster.markDatabaseReady(UserKey.of("ann").resourceName());
        Instant beat = p.beatLedger.beat(UserKey.of("ann"));
        await("the listing's watch to see both, ann ready").until(() -> {
            Map<String, ListingPage.Entry> e = entries(p.listing.page(null, 500));
            return e.size() == 2 && "ready".equals(e.get("ann").state());
        });
        ListingPage page = p.listing.page(null, 500);
        Map<String, ListingPage.Entry> e = entries(page);
        assertThat(e.get("ann").lastBeat()).isEqualTo(beat.toString());
        assertThat(e.get("ann").expiresAt())
                .isEqualTo(p.expiry
                        .expiresAt(beat, Instant.parse(e.get("ann").created()))
                        .toString());
        assertThat(e.get("ben").state()).isEqualTo("starting");
        assertThat(e.get("ben").lastBeat()).isNull();
        assertThat(page.running()).isEqualTo(2);
        assertThat(page.maxDatabases()).isEqualTo(100);
        assertThat(page.synced()).isTrue();

        ListingPage first = p.listing.page(null, 1);
        assertThat(first.databases()).extracting(ListingPage.Entry::userId).containsExactly("ann");
        assertThat(first.nextAfter()).isEqualTo("ann");
        ListingPage second = p.listing.page(first.nextAfter(), 1);
        assertThat(second.databases()).extracting(ListingPage.Entry::userId).containsExactly("ben");
        assertThat(second.nextAfter()).isNull();
    }

    @Test
    void aCondemnedDatabaseIsListedAsCondemnedAndCounted() {
        PlaygroundParts p = parts();
        cluster.admin()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .resource(p.objects.root(UserKey.of("cy")))
                .create();
        // What the reaper does first, the condemnation; as a merge patch, since the deployment controller writes
        // the root meanwhile (the reaper's own update is guarded by the version it judged).
        cluster.admin()
                .apps()
                .deployments()
                .inNamespace(cluster.namespace())
                .withName(UserKey.of("cy").resourceName())
                .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"" + PlaygroundLabels.REAPING + "\":\"" + clock.instant()
                                + "\"}}}");
        await("the listing's watch to see the condemnation")
                .until(() -> p.listing.countByState().get(DatabaseListing.State.CONDEMNED) == 1);
        assertThat(entries(p.listing.page(null, 500)).get("cy").state()).isEqualTo("condemned");
    }

    private static Map<String, ListingPage.Entry> entries(ListingPage page) {
        return page.databases().stream().collect(Collectors.toMap(ListingPage.Entry::userId, e -> e));
    }
}
