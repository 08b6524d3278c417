package org.sqlflow.playground.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ReadmeTableTest {

    private static final Path README = Path.of("README.md");

    /** Fails when a figure in bench/README.md was edited by hand, or a results file changed without the README. */
    @Test
    void theReadmesTablesAreTheOnesGeneratedFromTheCommittedResults() throws IOException {
        String readme = Files.readString(README);
        assertThat(ReadmeTable.update(readme, Path.of("")))
                .as("bench/README.md's tables differ from the results files: run bash bench/run.sh --table")
                .isEqualTo(readme);
        assertThat(readme).contains("from results/latest.json", "from results/flood.json");
    }

    @Test
    void aFigureEditedByHandIsPutBack() throws IOException {
        String readme = Files.readString(README);
        String row = "| memory | RSS after create_db + (a) + (b) (1000 users) | 377 MB | < 300 MB |";
        assertThat(readme).contains(row);
        String edited = readme.replace(row, row.replace("377 MB", "277 MB"));
        assertThat(ReadmeTable.update(edited, Path.of(""))).isEqualTo(readme);
    }

    @Test
    void rendersTheCaptionAndEscapesCells() {
        String results = """
                {"environment": {"date": "2026-01-02T03:04:05Z", "cores": 2, "java": "OpenJDK 17",
                  "kubernetes_api": "embedded", "load_average_before": "0.5 0.4 0.3",
                  "load_average_after": "1.0 0.9 0.8"},
                 "table": [
                  {"section": "reaper", "metric": "  its report (10 users)", "value": "a|b", "target": ""},
                  {"section": "start", "metric": "wall", "value": "3922 ms", "target": "< 2500 ms"}]}""";
        assertThat(ReadmeTable.render(Json.read(results))).isEqualTo("""
                Measured 2026-01-02T03:04:05Z on 2 cores (load generator included), load average 0.5 0.4 0.3 at the \
                start, 1.0 0.9 0.8 at the end; OpenJDK 17; Kubernetes API: embedded.

                | part | measure | result | target |
                |---|---|---|---|
                | reaper | its report (10 users) | a\\|b |  |
                | start | wall | 3922 ms | < 2500 ms |
                """);
    }

    @Test
    void aReadmeWithoutMarkersIsAnError() {
        assertThatThrownBy(() -> ReadmeTable.update("# no tables here\n", Path.of("")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
