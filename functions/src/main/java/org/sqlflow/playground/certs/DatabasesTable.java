package org.sqlflow.playground.certs;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code playground-certs databases NAME}: GET /api/databases with the admin bundle admins/NAME/, every page, as a
 * table. Read as plain JSON, so the tool needs nothing of the server's classes.
 */
final class DatabasesTable {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String ROW = "%-24s %-10s %-20s %-20s %-20s %-6s %s%n";

    private DatabasesTable() {}

    /** The pages of the listing, in order, following next_after. */
    static List<JsonNode> fetch(String server, Path bundle, int pageSize) throws IOException, CertsException {
        SSLContext tls;
        try {
            tls = MutualTls.clientContext(
                    bundle.resolve(CertsDirectory.CA_CERT),
                    bundle.resolve(CertsDirectory.CLIENT_CERT),
                    bundle.resolve(CertsDirectory.CLIENT_KEY));
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new CertsException("cannot read the admin bundle " + bundle + ": " + e.getMessage());
        }
        HttpClient http = HttpClient.newBuilder()
                .sslContext(tls)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        List<JsonNode> pages = new ArrayList<>();
        String after = null;
        do {
            String query = "?limit=" + pageSize
                    + (after == null ? "" : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8));
            HttpResponse<String> reply;
            try {
                reply = http.send(
                        HttpRequest.newBuilder(URI.create(server + "/api/databases" + query))
                                .timeout(Duration.ofSeconds(60))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CertsException("interrupted");
            }
            JsonNode body = JSON.readTree(reply.body());
            if (reply.statusCode() != 200) {
                throw new CertsException(server + " answered " + reply.statusCode()
                        + (body != null && body.has("error")
                                ? " " + body.get("error").asString() + ": "
                                        + body.get("message").asString()
                                : ""));
            }
            pages.add(body);
            JsonNode next = body.get("next_after");
            after = next == null || next.isNull() ? null : next.asString();
        } while (after != null);
        return pages;
    }

    /** One row per database, then the playground's state from the last page. */
    static String render(List<JsonNode> pages) {
        StringBuilder out = new StringBuilder(
                String.format(ROW, "USER", "STATE", "CREATED", "LAST BEAT", "EXPIRES", "POOLED", "KEPT"));
        for (JsonNode page : pages) {
            for (JsonNode d : page.get("databases")) {
                out.append(String.format(
                        ROW,
                        d.get("user_id").asString(),
                        d.get("state").asString(),
                        text(d, "created"),
                        text(d, "last_beat"),
                        text(d, "expires_at"),
                        d.get("pooled").asBoolean() ? "yes" : "no",
                        d.get("kept").asBoolean() ? "yes" : "no"));
            }
        }
        JsonNode last = pages.get(pages.size() - 1);
        JsonNode pool = last.get("pool");
        out.append(String.format(
                "%d databases; %d of at most %d run a pod; warm pool: %d ready, %d starting of %d%s%n",
                last.get("total").asInt(),
                last.get("running").asInt(),
                last.get("max_databases").asInt(),
                pool.get("ready").asInt(),
                pool.get("starting").asInt(),
                pool.get("size").asInt(),
                last.get("synced").asBoolean() ? "" : " (the server's watch is not synced: the list may be stale)"));
        JsonNode sweep = last.get("last_sweep");
        if (sweep == null || sweep.isNull()) {
            out.append("last sweep: none on this instance\n");
        } else {
            JsonNode c = sweep.get("counts");
            out.append(String.format(
                    "last sweep%s: finished %s; examined %d, active %d, reaped %d, kept %d, failed %d,"
                            + " orphans removed %d%n",
                    sweep.get("dry_run").asBoolean() ? " (dry run)" : "",
                    sweep.get("finished_at").asString(),
                    c.get("examined").asInt(),
                    c.get("active").asInt(),
                    c.get("reaped").asInt(),
                    c.get("kept").asInt(),
                    c.get("failed").asInt(),
                    c.get("orphans_removed").asInt()));
        }
        return out.toString();
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? "-" : v.asString();
    }
}
