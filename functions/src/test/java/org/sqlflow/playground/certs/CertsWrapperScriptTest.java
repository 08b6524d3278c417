package org.sqlflow.playground.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.sqlflow.playground.certs.CertsTestSupport.available;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * certs/playground-certs, run from a copy of the repository layout with a stand-in `java` on the PATH that
 * prints its arguments: the wrapper finds the jar relative to itself (also through a symlink) and passes the
 * arguments through unchanged.
 */
class CertsWrapperScriptTest {

    private static final Path SCRIPT = Path.of("..", "certs", "playground-certs");

    @TempDir
    Path tmp;

    Path repo;
    Path bin;

    @BeforeEach
    void layout() throws Exception {
        assumeTrue(available("bash", "--version"), "bash not found: skipping the wrapper script check");
        repo = tmp.resolve("repo");
        Files.createDirectories(repo.resolve("certs"));
        Files.copy(SCRIPT, repo.resolve("certs/playground-certs"));
        bin = tmp.resolve("bin");
        Files.createDirectories(bin);
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\necho\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwx------"));
    }

    @Test
    void missingJarSaysHowToBuildIt() throws Exception {
        CertsTestSupport.Process result = run(repo.resolve("certs/playground-certs"), "--help");
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.output())
                .contains("functions/target/sqlflow-playground.jar not found")
                .contains("./mvnw -B -DskipTests package");
    }

    @Test
    void runsTheJarsCertsCommandWithTheArgumentsUnchanged() throws Exception {
        Path jar = repo.resolve("functions/target/sqlflow-playground.jar");
        Files.createDirectories(jar.getParent());
        Files.writeString(jar, "stand-in");
        Path link = tmp.resolve("elsewhere/pc");
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, repo.resolve("certs/playground-certs").toAbsolutePath());

        CertsTestSupport.Process result = run(link, "--dir", "my certs", "user", "alice", "--server", "https://x:1");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output().trim())
                .isEqualTo("[-jar][" + jar.toRealPath() + "][certs][--dir][my certs][user]"
                        + "[alice][--server][https://x:1]");
    }

    private CertsTestSupport.Process run(Path script, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("bash", script.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PATH", bin + ":/usr/bin:/bin");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new CertsTestSupport.Process(process.waitFor(), output);
    }
}
