package org.sqlflow.playground.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.type.TypeReference;

class JsonTest {

    /** The committed results files, read and written again, come out byte for byte: the format has not moved. */
    @ParameterizedTest
    @ValueSource(strings = {"results/latest.json", "results/flood.json"})
    void committedResultsFilesKeepTheirFormat(String file) throws IOException {
        String text = Files.readString(Path.of(file));
        Map<String, Object> tree = Json.MAPPER.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() {});
        assertThat(Json.pretty(tree) + "\n").isEqualTo(text);
    }

    @Test
    void wholeNumbersAsIntegersAndNotANumberAsNull() {
        Map<String, Object> tree = Results.map(
                "median_wall_ms",
                8866.0,
                "p50_ms",
                85.09,
                "per_second",
                Double.NaN,
                "wall_ms",
                List.of(8866.0, 9248.0),
                "empty",
                Map.of(),
                "none",
                List.of());
        assertThat(Json.pretty(tree)).isEqualTo("""
                {
                  "median_wall_ms": 8866,
                  "p50_ms": 85.09,
                  "per_second": null,
                  "wall_ms": [
                    8866,
                    9248
                  ],
                  "empty": {},
                  "none": []
                }""");
        assertThat(Json.compact(tree))
                .isEqualTo(
                        "{\"median_wall_ms\":8866,\"p50_ms\":85.09,\"per_second\":null,\"wall_ms\":[8866,9248],\"empty\":{},"
                                + "\"none\":[]}");
    }

    @Test
    void theReapReportsCountsOnOneLine() {
        assertThat(ReapSection.reportCounts("{\"status\":\"done\",\"counts\":{\"examined\":1000,\"reaped\":100,"
                        + "\"failed\":0},\"failures\":[]}"))
                .isEqualTo("{\"examined\":1000,\"reaped\":100,\"failed\":0}");
        assertThat(ReapSection.reportCounts("<html>502</html>")).isNull();
        assertThat(ReapSection.reportCounts("{\"error\":\"forbidden\"}")).isNull();
    }
}
