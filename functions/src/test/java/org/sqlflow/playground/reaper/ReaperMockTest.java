package org.sqlflow.playground.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.testing.MockTestCluster;
import org.sqlflow.playground.testing.PlaygroundParts;
import org.sqlflow.playground.testing.StrictMockTestCluster;

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
        int shards = admin().configMaps().inNamespace(ns()).withLabels(PlaygroundLabels.heartbeats()).list().getItems().size();
        int before = ((StrictMockTestCluster) cluster).pagedListCount();
        ReapReport report = reaper(p, false, 3, Reaper.Interleaving.NONE).sweep(false);
        assertEquals(10, report.counts().reaped());
        // The heartbeat ConfigMaps in pages of 4; 10 roots in pages of 3: 4 pages; then one (empty) page each of
        // Services and volume claims (Secrets are never listed).
        assertEquals((shards + 3) / 4 + 4 + 2, ((StrictMockTestCluster) cluster).pagedListCount() - before);
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
        }).sweep(false);
        assertEquals(1, report.counts().kept());
        assertEquals(1, ((StrictMockTestCluster) cluster).refusedDeleteCount(), "the server refused the delete");
    }

    @Test
    void theRootIsDeletedInTheBackgroundOnTheVersionItWasCondemnedIn() throws Exception {
        PlaygroundParts p = playground();
        createDb(p, "jude");
        clock.advance(TTL.plus(SECOND));
        String condemnedVersion = Long.toString(Long.parseLong(root("jude").getMetadata().getResourceVersion()) + 1);
        assertEquals(1, reaper(p).sweep(false).counts().reaped());
        List<String> bodies = ((StrictMockTestCluster) cluster).deleteBodies().stream()
                .filter(e -> e.getKey().endsWith("/deployments/db-jude")).map(Map.Entry::getValue).toList();
        assertEquals(1, bodies.size());
        JsonNode options = new ObjectMapper().readTree(bodies.get(0));
        assertEquals("Background", options.path("propagationPolicy").asText());
        assertEquals(condemnedVersion, options.path("preconditions").path("resourceVersion").asText(),
                "the version written by the condemning update (the mock numbers writes globally; it was the next one)");
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
            Deployment root = c.apps().deployments().inNamespace(stock.namespace())
                    .resource(new DatabaseObjects(DEFAULTS.database()).root(UserKey.of("stale"))).create();
            c.apps().deployments().inNamespace(stock.namespace()).withName("db-stale").edit(d -> {
                d.getMetadata().getAnnotations().put("touched", "yes");
                return d;
            });
            c.apps().deployments().inNamespace(stock.namespace()).withName("db-stale")
                    .lockResourceVersion(root.getMetadata().getResourceVersion()).delete();
            assertNull(c.apps().deployments().inNamespace(stock.namespace()).withName("db-stale").get(),
                    "deleted although the precondition named an outdated resourceVersion");
        }
    }
}
