package org.sqlflow.playground.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * Counts, from the API server's audit log (JSON lines, Metadata level), the requests the playground server made:
 * user agent fabric8 (the benchmark's own setup requests carry none), in the server's namespace, one per request
 * (stage ResponseComplete). Only what was appended since the first call is read; a rotated log (audit-TIME.log
 * beside it) is followed by inode.
 */
final class AuditLog {

    private final Map<Object, Long> offsets = new HashMap<>();
    private final Map<String, Long> counts = new TreeMap<>();
    private boolean started;

    synchronized Map<String, Long> counts(Path log, String namespace) throws IOException {
        String base = log.getFileName().toString().replaceAll("\\.log$", "");
        List<Path> files = new ArrayList<>();
        try (Stream<Path> siblings = Files.list(log.getParent())) {
            siblings.filter(p -> p.getFileName().toString().startsWith(base + "-"))
                    .sorted()
                    .forEach(files::add);
        }
        files.add(log);
        for (Path f : files) {
            Object inode = Files.getAttribute(f, "unix:ino");
            long size = Files.size(f);
            if (!started) {
                offsets.put(inode, size);
                continue;
            }
            long from = offsets.getOrDefault(inode, 0L);
            if (size > from) {
                offsets.put(inode, readFrom(f, from, namespace));
            }
        }
        started = true;
        return new TreeMap<>(counts);
    }

    /** Counts the complete lines from {@code from} on; returns the offset after the last of them. */
    private long readFrom(Path f, long from, String namespace) throws IOException {
        try (FileChannel channel = FileChannel.open(f)) {
            channel.position(from);
            BufferedReader in = new BufferedReader(Channels.newReader(channel, StandardCharsets.UTF_8));
            long read = from;
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.endsWith("}")) {
                    break; // a line still being written: read it next time
                }
                read += line.getBytes(StandardCharsets.UTF_8).length + 1;
                count(line, namespace);
            }
            return read;
        }
    }

    private void count(String line, String namespace) {
        // Most lines are someone else's: skip them before parsing.
        if (!line.contains("\"ResponseComplete\"") || !line.contains("\"userAgent\":\"fabric8")) {
            return;
        }
        JsonNode event = Json.read(line);
        JsonNode ref = event.path("objectRef");
        String resource = ref.path("resource").asString(null);
        if (!"ResponseComplete".equals(event.path("stage").asString(null))
                || resource == null
                || !namespace.equals(ref.path("namespace").asString(null))) {
            return;
        }
        String sub = ref.path("subresource").asString(null);
        counts.merge(
                ApiCalls.verb(event.path("verb").asString("")) + " " + resource + (sub == null ? "" : "/" + sub),
                1L,
                Long::sum);
    }
}
