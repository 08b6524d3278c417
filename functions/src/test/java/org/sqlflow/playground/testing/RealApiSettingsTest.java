package org.sqlflow.playground.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the real-API tier finds its cluster (fast tier: no API server needed). */
class RealApiSettingsTest {

    @TempDir
    Path dir;

    private Path kubeconfig(String server) throws IOException {
        Path file = dir.resolve("kubeconfig");
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: c
                  cluster: {server: %s, insecure-skip-tls-verify: true}
                users:
                - name: u
                  user: {token: x}
                contexts:
                - name: c
                  context: {cluster: c, user: u}
                current-context: c
                """.formatted(server));
        return file;
    }

    private void envFile(String url, Path kubeconfig) throws IOException {
        Files.writeString(dir.resolve("ca.crt"), "x");
        Files.writeString(
                dir.resolve("env"),
                "# Written by test-cluster.sh start. Use: source " + dir + "/env\n"
                        + "export KUBECONFIG=" + kubeconfig.toString().replace(" ", "\\ ") + "\n"
                        + "export PLAYGROUND_K8S_DIR=" + dir + "\n"
                        + "export PLAYGROUND_K8S_API_URL=" + url + "\n"
                        + "export PLAYGROUND_K8S_CA_FILE=" + dir.resolve("ca.crt") + "\n"
                        + "export PLAYGROUND_K8S_AUDIT_LOG=" + dir.resolve("audit.log") + "\n");
    }

    @Test
    void theEnvFileTestClusterShWritesIsReadWithoutSourcingIt() throws IOException {
        envFile("https://127.0.0.1:16443", kubeconfig("https://127.0.0.1:16443"));
        RealApi.Settings s = RealApi.discover(Map.of("PLAYGROUND_K8S_DIR", dir.toString()));
        assertThat(s.apiUrl()).isEqualTo("https://127.0.0.1:16443");
        assertThat(s.kubeconfig()).isEqualTo(dir.resolve("kubeconfig"));
        assertThat(s.auditLog()).isEqualTo(dir.resolve("audit.log"));
        assertThat(s.source()).isEqualTo(dir.resolve("env").toString());
    }

    @Test
    void noEnvFileAndNoVariablesMeansNoClusterWithAHint() {
        assertThatThrownBy(() -> RealApi.discover(Map.of("PLAYGROUND_K8S_DIR", dir.toString())))
                .hasMessageContaining("PLAYGROUND_K8S_API_URL is not set")
                .hasMessageContaining("test-cluster.sh start");
    }

    @Test
    void aKubeconfigForAnotherClusterIsRefused() throws IOException {
        Path foreign = kubeconfig("https://production.example:6443");
        Files.writeString(dir.resolve("ca.crt"), "x");
        Map<String, String> env = Map.of(
                "PLAYGROUND_K8S_API_URL",
                "https://127.0.0.1:16443",
                "KUBECONFIG",
                foreign.toString(),
                "PLAYGROUND_K8S_CA_FILE",
                dir.resolve("ca.crt").toString(),
                "PLAYGROUND_K8S_AUDIT_LOG",
                dir.resolve("audit.log").toString());
        assertThatThrownBy(() -> RealApi.discover(env))
                .hasMessageContaining("refusing to run tests against another cluster");
    }
}
