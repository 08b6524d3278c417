package org.sqlflow.playground.error;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlaygroundErrorTest {

    @Test
    void theReadmeListsEveryCode() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        assertThat(Arrays.stream(PlaygroundError.values())
                        .map(PlaygroundError::code)
                        .distinct())
                .allSatisfy(
                        code -> assertThat(readme).as("README lists `%s`", code).contains("`" + code + "`"));
    }

    @Test
    void aCodeMeansOneStatus() {
        Map<String, Integer> statusOf = new HashMap<>();
        for (PlaygroundError e : PlaygroundError.values()) {
            assertThat(statusOf.putIfAbsent(e.code(), e.status())).as(e.name()).isIn(null, e.status());
        }
    }

    @Test
    void retryAfterComesFromTheThrowerTheCatalogueOrTheConfiguration() {
        Duration configured = Duration.ofSeconds(7);
        assertThat(PlaygroundError.DATABASE_STARTING.exception().retryAfter(configured))
                .isEqualTo(configured);
        assertThat(PlaygroundError.PLAYGROUND_FULL.exception().retryAfter(configured))
                .isEqualTo(Duration.ofMinutes(1));
        assertThat(PlaygroundError.INVALID_JSON.exception().retryAfter(configured))
                .isNull();
        assertThat(PlaygroundError.SWEEP_TOO_SOON
                        .retryingAfter(Duration.ofSeconds(42), 60)
                        .retryAfter(configured))
                .isEqualTo(Duration.ofSeconds(42));
    }

    @Test
    void argumentsFillTheSentence() {
        assertThat(PlaygroundError.BODY_TOO_LARGE.exception(65536).getMessage())
                .isEqualTo("The body is larger than 65536 bytes.");
        assertThat(PlaygroundError.WRONG_METHOD
                        .exception("/api/create_db", "POST")
                        .getMessage())
                .isEqualTo("/api/create_db takes POST only.");
    }

    @Test
    void everyServerStatusTheContainerProducesHasAnEntry() {
        for (int status : new int[] {400, 404, 405, 408, 411, 413, 414, 417, 500, 501, 503, 505}) {
            assertThat(PlaygroundError.forStatus(status).status())
                    .as("status %d", status)
                    .isEqualTo(status);
        }
    }
}
