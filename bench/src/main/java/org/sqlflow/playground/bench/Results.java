package org.sqlflow.playground.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a run measured: a tree of figures by section (written as the results file) and the table's rows (printed
 * at the end, kept in the file under "table", and what bench/README.md's tables are generated from).
 */
final class Results {

    /** One line of the table. */
    record Row(String section, String metric, String value, String target) {}

    private final Map<String, Object> tree = new LinkedHashMap<>();
    private final List<Row> rows = new ArrayList<>();
    private final Path file;

    Results(Path file) {
        this.file = file;
    }

    synchronized void put(String key, Object value) {
        tree.put(key, value);
    }

    /** The section's map, made (in the file's order) on first use. */
    @SuppressWarnings("unchecked")
    synchronized Map<String, Object> section(String key) {
        return (Map<String, Object>) tree.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
    }

    synchronized void row(String section, String metric, String value, String target) {
        rows.add(new Row(section, metric, value, target));
    }

    /** Writes the file whole (through a temporary file), so a stopped run leaves what it measured so far. */
    synchronized void write() throws IOException {
        tree.put(
                "table",
                rows.stream()
                        .map(r -> map(
                                "section", r.section(), "metric", r.metric(), "value", r.value(), "target", r.target()))
                        .toList());
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, Json.pretty(tree) + "\n");
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The table as text, then the environment in one line. */
    synchronized void print(PrintStream out) {
        int w0 = 10;
        int w1 = 20;
        int w2 = 10;
        for (Row r : rows) {
            w0 = Math.max(w0, r.section().length());
            w1 = Math.max(w1, r.metric().length());
            w2 = Math.max(w2, r.value().length());
        }
        StringBuilder sb = new StringBuilder();
        String f = "| %-" + w0 + "s | %-" + w1 + "s | %-" + w2 + "s | %s |%n";
        sb.append(String.format(f, "part", "measure", "result", "target"));
        sb.append(String.format(f, "-".repeat(w0), "-".repeat(w1), "-".repeat(w2), "---"));
        for (Row r : rows) {
            sb.append(String.format(f, r.section(), r.metric(), r.value(), r.target()));
        }
        Map<String, Object> env = section("environment");
        sb.append(String.format(
                "%n%s cores, %s, %s, load average %s -> %s; %s%n",
                env.get("cores"),
                env.get("java"),
                env.get("date"),
                env.get("load_average_before"),
                env.get("load_average_after"),
                env.get("kubernetes_api")));
        out.print(sb);
        out.println("JSON: " + file);
    }

    /** A map literal that allows nulls and keeps its order. */
    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
