package org.sqlflow.playground.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientPathTest {

    @Test
    void theSteadyStateIsTheMeanOfTheLaterHalfOfTheSeconds() {
        assertThat(ClientPathSection.steadyRate(new long[] {100, 200, 300, 400}))
                .isEqualTo(350.0);
        assertThat(ClientPathSection.steadyRate(new long[] {1, 2, 3})).isEqualTo(2.5);
        assertThat(ClientPathSection.steadyRate(new long[] {7})).isEqualTo(7.0);
        assertThat(ClientPathSection.steadyRate(new long[0])).isZero();
    }

    @Test
    void theOriginalsPackageIsFoundInACheckoutOrItsPythonDirectory(@TempDir Path dir) throws Exception {
        Path checkout = dir.resolve("playground");
        Files.createDirectories(checkout.resolve("python/sqlflow_playground"));
        Files.writeString(checkout.resolve("python/sqlflow_playground/server.py"), "");
        assertThat(OriginalServer.pythonPath(checkout))
                .isEqualTo(checkout.resolve("python").toAbsolutePath());
        assertThat(OriginalServer.pythonPath(checkout.resolve("python")))
                .isEqualTo(checkout.resolve("python").toAbsolutePath());
        assertThatThrownBy(() -> OriginalServer.pythonPath(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--original=" + dir)
                .hasMessageContaining("sql-machine-learning/playground");
    }

    @Test
    void theClientPathRunsByDefaultAndTakesTheOriginalAndAServerJdk() throws Exception {
        Path root = Path.of("..");
        Options defaults = Options.parse(new String[0], root);
        assertThat(defaults.has("client")).isTrue();
        assertThat(defaults.original).isNull();
        assertThat(defaults.originalPython).isEqualTo("python3");
        Options o = Options.parse(
                new String[] {
                    "--sections=client",
                    "--original=/src/playground",
                    "--original-python=/usr/bin/python3",
                    "--server-jdk=/opt/jdk-25"
                },
                root);
        assertThat(o.original).isEqualTo(Path.of("/src/playground"));
        assertThat(o.originalPython).isEqualTo("/usr/bin/python3");
        assertThat(new Run(o, null).serverJava()).isEqualTo("/opt/jdk-25/bin/java");
        assertThat(new Run(defaults, null).serverJava()).isEqualTo(Run.java());
    }
}
