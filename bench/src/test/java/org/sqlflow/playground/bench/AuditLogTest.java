package org.sqlflow.playground.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {

    private static String event(String verb, String agent, String namespace, String resource, String subresource) {
        return "{\"kind\":\"Event\",\"level\":\"Metadata\",\"stage\":\"ResponseComplete\",\"verb\":\"" + verb
                + "\",\"userAgent\":\"" + agent + "\",\"objectRef\":{\"resource\":\"" + resource + "\",\"namespace\":\""
                + namespace + "\"" + (subresource == null ? "" : ",\"subresource\":\"" + subresource + "\"")
                + ",\"apiVersion\":\"v1\"}}\n";
    }

    private static void append(Path log, String text) throws IOException {
        Files.writeString(log, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Test
    void countsTheServersOwnCompleteRequestsInItsNamespaceSinceTheFirstCall(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("audit.log");
        String agent = "fabric8-kubernetes-client/7.5.2";
        append(log, event("create", agent, "bench-1", "deployments", null)); // before the first call: not counted
        AuditLog audit = new AuditLog();
        assertThat(audit.counts(log, "bench-1")).isEmpty();

        append(log, event("list", agent, "bench-1", "deployments", null));
        append(log, event("patch", agent, "bench-1", "configmaps", null));
        append(log, event("update", agent, "bench-1", "deployments", "status"));
        append(log, event("patch", agent, "other", "configmaps", null)); // another namespace
        append(log, event("create", "curl/8.0", "bench-1", "deployments", null)); // the benchmark's own setup
        append(log, event("get", agent, "bench-1", "secrets", null).replace("ResponseComplete", "RequestReceived"));
        append(log, event("delete", agent, "bench-1", "deployments", null).replace("}}\n", "")); // still being written
        assertThat(audit.counts(log, "bench-1"))
                .containsExactly(
                        Map.entry("LIST deployments", 1L),
                        Map.entry("PATCH configmaps", 1L),
                        Map.entry("PUT deployments/status", 1L));

        append(log, "}}\n"); // the rest of the delete
        assertThat(audit.counts(log, "bench-1"))
                .containsEntry("DELETE deployments", 1L)
                .hasSize(4);
    }

    @Test
    void writesArePostPutPatchAndDelete() {
        var calls = Map.of(
                "POST deployments",
                2L,
                "PATCH configmaps",
                3L,
                "LIST deployments",
                5L,
                "GET secrets",
                7L,
                "DELETE deployments",
                1L);
        assertThat(ApiCalls.writesPer(calls, 12)).isEqualTo(0.5);
        assertThat(ApiCalls.writesPer(calls, 0)).isNaN();
    }
}
