package org.sqlflow.playground.reaper;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.testing.MockTestCluster;
import org.sqlflow.playground.testing.PlaygroundParts;
import org.sqlflow.playground.testing.StrictMockTestCluster;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The reaper's scenarios in the fast tier: a mock API server that honours delete preconditions and paging. */
class ReaperMockTest extends ReaperScenarios {

    @Override
    protected OptionalInt requestCount() {
        return OptionalInt.of(((StrictMockTestCluster) cluster).requestCount());
    }

    @Override
    protected void createInBulk(List<? extends HasMetadata> objects) {
        ((StrictMockTestCluster) cluster).createInProcess(objects);
    }

    @Test
    void rootsAreListedPageByPage() {
        PlaygroundParts p = playground();
        for (int i = 0; i < 10; i++) {
            createDb(p, "page" + i);
        }
        clock.advance(TTL.plus(SECOND));
        int shards = admin().configMaps()
                .inNamespace(ns())
                .withLabels(PlaygroundLabels.heartbeats())
                .list()
                .getItems()
                .size();
        int before = ((StrictMockTestCluster) cluster).pagedListCount();
        ReapReport report = reaper(p, false, 3, Reaper.Interleaving.NONE).sweep(false);
        assertThat(report.counts().reaped()).isEqualTo(10);
        // The heartbeat ConfigMaps in pages of 4; 10 roots in pages of 3: 4 pages; then one (empty) page each of
        // Services and volume claims (Secrets are never listed).
        assertThat(((StrictMockTestCluster) cluster).pagedListCount() - before).isEqualTo((shards + 3) / 4 + 4 + 2);
    }

    @Test
    void theRaceRuleRestsOnTheDeletePrecondition() {
        PlaygroundParts p = playground();
        createDb(p, "ivy");
        clock.advance(TTL.plus(Duration.ofMinutes(1)));
        ReapReport report = reaper(p, false, 500, (step, user) -> {
                    if (step == Reaper.Step.RECHECKED) {
                        p.recorder.beat(user);
                    }
                })
                .sweep(false);
        assertThat(report.counts().kept()).isEqualTo(1);
        assertThat(((StrictMockTestCluster) cluster).refusedDeleteCount())
                .as("the server refused the delete")
                .isEqualTo(1);
    }

    @Test
    void theRootIsDeletedInTheBackgroundOnTheVersionItWasCondemnedIn() throws Exception {
        PlaygroundParts p = playground();
        createDb(p, "jude");
        clock.advance(TTL.plus(SECOND));
        String condemnedVersion =
                Long.toString(Long.parseLong(root("jude").getMetadata().getResourceVersion()) + 1);
        assertThat(reaper(p).sweep(false).counts().reaped()).isEqualTo(1);
        List<String> bodies = ((StrictMockTestCluster) cluster)
                .deleteBodies().stream()
                        .filter(e -> e.getKey().endsWith("/deployments/db-jude"))
                        .map(Map.Entry::getValue)
                        .toList();
        assertThat(bodies).hasSize(1);
        JsonNode options = JsonMapper.builder().build().readTree(bodies.get(0));
        assertThat(options.path("propagationPolicy").asString()).isEqualTo("Background");
        assertThat(options.path("preconditions").path("resourceVersion").asString())
                .as("the version written by the condemning update (the mock numbers writes globally: the next one)")
                .isEqualTo(condemnedVersion);
    }

    /**
     * Why this tier does not use the shared MockTestCluster: fabric8's stock mock server (7.5.2) deletes whatever
     * the preconditions say, so the reaper's last guard could not be tested there. If this starts failing,
     * fabric8 has learned preconditions and the stock mock will do.
     */
    @Test
    void theStockMockServerIgnoresDeletePreconditions() {
        try (MockTestCluster stock = new MockTestCluster()) {
            KubernetesClient c = stock.client();
            Deployment root = c.apps()
                    .deployments()
                    .inNamespace(stock.namespace())
                    .resource(new DatabaseObjects(DEFAULTS.database()).root(UserKey.of("stale")))
                    .create();
            c.apps()
                    .deployments()
                    .inNamespace(stock.namespace())
                    .withName("db-stale")
                    .edit(d -> {
                        d.getMetadata().getAnnotations().put("touched", "yes");
                        return d;
                    });
            c.apps()
                    .deployments()
                    .inNamespace(stock.namespace())
                    .withName("db-stale")
                    .lockResourceVersion(root.getMetadata().getResourceVersion())
                    .delete();
            assertThat(c.apps()
                            .deployments()
                            .inNamespace(stock.namespace())
                            .withName("db-stale")
                            .get())
                    .as("deleted although the precondition named an outdated resourceVersion")
                    .isNull();
        }
    }
}
