package org.sqlflow.playground.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The API server's audit log (JSON lines, Metadata level: who, what, where, and the answer's status; never a
 * body). A request appears once per stage; entries are merged by audit id.
 */
public final class AuditLog {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** One request. {@code resource} is null for non-resource URLs (discovery, /version), {@code namespace} for cluster-scoped ones. */
    public record Entry(
            String auditId,
            String username,
            String verb,
            String apiGroup,
            String resource,
            String subresource,
            String namespace,
            String name,
            String requestUri,
            int code) {

        /** "apps/deployments", "pods/exec", "configmaps": how RBAC rules name it. */
        public String resourceKey() {
            String r = subresource == null ? resource : resource + "/" + subresource;
            return apiGroup == null || apiGroup.isEmpty() ? r : apiGroup + "/" + r;
        }
    }

    private AuditLog() {}

    /** Every entry of the log file and its rotated backups ({@code audit-<time>.log} beside it). */
    public static List<Entry> read(Path log) {
        List<Path> files = new ArrayList<>();
        String base = log.getFileName().toString().replaceAll("\\.log$", "");
        try (Stream<Path> siblings = Files.list(log.getParent())) {
            siblings.filter(p -> p.getFileName().toString().startsWith(base + "-"))
                    .sorted()
                    .forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        files.add(log);
        Map<String, Entry> byId = new LinkedHashMap<>();
        for (Path f : files) {
            try (Stream<String> lines = Files.lines(f)) {
                lines.filter(l -> !l.isBlank())
                        .map(AuditLog::parse)
                        .forEach(e -> byId.merge(e.auditId(), e, (a, b) -> b.code() != 0 ? b : a));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return List.copyOf(byId.values());
    }

    public static Entry parse(String line) {
        try {
            JsonNode e = JSON.readTree(line);
            JsonNode ref = e.path("objectRef");
            return new Entry(
                    e.path("auditID").asString(),
                    e.path("user").path("username").asString(),
                    e.path("verb").asString(),
                    text(ref, "apiGroup"),
                    text(ref, "resource"),
                    text(ref, "subresource"),
                    text(ref, "namespace"),
                    text(ref, "name"),
                    e.path("requestURI").asString(),
                    e.path("responseStatus").path("code").asInt(0));
        } catch (JacksonException ex) {
            throw new IllegalArgumentException("not an audit event: " + line, ex);
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asString();
    }
}
