package org.sqlflow.playground.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StartSectionTest {

    @Test
    void theReadmesLocalCommandIsMeasuredWithTheFlagsItGives() throws Exception {
        assertThat(StartSection.readmeFlags(Files.readString(Path.of("..", "README.md"))))
                .containsExactly("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
        assertThat(StartSection.readmeFlags(
                        "./mvnw package && java -jar functions/target/sqlflow-playground.jar --local"))
                .isEmpty();
        assertThat(StartSection.readmeFlags(
                        "java -Xmx1g -jar functions/target/sqlflow-playground.jar --local --port=1"))
                .containsExactly("-Xmx1g");
        assertThatThrownBy(() -> StartSection.readmeFlags("java -jar other.jar --local"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("README.md has no");
    }
}
