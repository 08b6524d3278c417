package org.sqlflow.playground.manifests;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.sqlflow.playground.testing.Tier;

/**
 * The kustomize that `kubectl apply -k` runs: `kubectl kustomize` of the first kubectl on the PATH,
 * or else a standalone `kustomize build`. The manifest tests check what it renders, not the files
 * it reads, so without one they are skipped with the reason, except under {@code CI=true}, where
 * they fail (.ci/run installs Debian's kubectl, whose kustomize is 2.0.3; knative/ is written for
 * that version and every later one).
 */
final class Kustomize {

    /** Rendered output by folder: one kustomize run per folder and JVM. */
    private static final Map<Path, String> RENDERED = new ConcurrentHashMap<>();

    private Kustomize() {}

    /**
     * For a class whose every test reads rendered manifests ({@link RendersManifests}): skipped as a
     * whole, with the reason, when there is no kustomize, or failed under CI.
     */
    static final class Required implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if (command(System.getenv("PATH"), Path.of(".")).isPresent()) {
                return ConditionEvaluationResult.enabled("kustomize found");
            }
            if (Tier.underCi()) {
                throw unavailable(NOT_FOUND, true);
            }
            return ConditionEvaluationResult.disabled("manifest tests skipped: " + NOT_FOUND);
        }
    }

    private static final String NOT_FOUND = "no kubectl or kustomize on the PATH";

    /** Returns when kustomize can run here; otherwise skips the test, or fails it under CI. */
    static List<String> require(Path dir) {
        return command(System.getenv("PATH"), dir).orElseThrow(() -> unavailable(NOT_FOUND, Tier.underCi()));
    }

    /** What `kubectl apply -k dir` would apply, as YAML. */
    static String build(Path dir) {
        Path key = dir.toAbsolutePath().normalize();
        String cached = RENDERED.get(key);
        if (cached != null) {
            return cached;
        }
        String rendered = run(require(key));
        RENDERED.put(key, rendered);
        return rendered;
    }

    /** The command that renders {@code dir}, from the first kubectl (else kustomize) on {@code path}. */
    static Optional<List<String>> command(String path, Path dir) {
        Optional<Path> kubectl = onPath(path, "kubectl");
        if (kubectl.isPresent()) {
            return Optional.of(List.of(kubectl.get().toString(), "kustomize", dir.toString()));
        }
        return onPath(path, "kustomize").map(k -> List.of(k.toString(), "build", dir.toString()));
    }

    /**
     * Why the manifests cannot be rendered: under CI an error (the check is required there), elsewhere
     * the test is skipped with the reason.
     */
    static RuntimeException unavailable(String reason, boolean ci) {
        if (ci) {
            return new IllegalStateException("CI=true and the manifest tests cannot render knative/ and istio/: "
                    + reason + " (.ci/run installs Debian's kubernetes-client)");
        }
        Assumptions.abort("manifest tests skipped: " + reason + "; install kubectl to render knative/ and istio/");
        throw new AssertionError("unreachable");
    }

    private static String run(List<String> command) {
        try {
            Path errors = Files.createTempFile("kustomize", ".err");
            try {
                Process process = new ProcessBuilder(command)
                        .redirectError(errors.toFile())
                        .start();
                byte[] out = process.getInputStream().readAllBytes();
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", command) + " did not finish within 120 s");
                }
                if (process.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", command) + " failed (exit " + process.exitValue()
                            + "): "
                            + Files.readString(errors, StandardCharsets.UTF_8).strip());
                }
                return new String(out, StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(errors);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Optional<Path> onPath(String path, String name) {
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
