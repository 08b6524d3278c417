package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.VersionInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Where the real-API tier's Kubernetes API server is, and whether it answers. {@code .ci/test-cluster.sh start}
 * writes an env file; the tier reads the variables it exports from the environment (when sourced) or straight
 * from that file (when not), so {@code ./mvnw verify} after {@code test-cluster.sh start} runs the tier.
 *
 * <p>Nothing else is trusted as "the test cluster": a developer's own {@code KUBECONFIG} alone is never used,
 * and the kubeconfig's server must be the {@code PLAYGROUND_K8S_API_URL} the script wrote.
 *
 * <p>Outside CI a missing or dead API server skips the tier with the reason; under {@code CI=true} it fails it
 * ({@link Tier}).
 */
public final class RealApi {

    /** The script's default runtime directory ({@code PLAYGROUND_K8S_DIR}). */
    static final String DEFAULT_DIR = "/tmp/sqlflow-playground-k8s";

    static final String HOW_TO_START =
            "start one with `bash .ci/test-cluster.sh build && bash .ci/test-cluster.sh start`";

    /** What the tier needs to know about its API server. */
    public record Settings(Path kubeconfig, String apiUrl, Path caFile, Path auditLog, String source) {}

    private static Settings settings;
    private static String unavailable;
    private static boolean probed;

    private RealApi() {}

    /** Why the tier cannot run, or null when it can. */
    public static synchronized String unavailableReason() {
        if (!probed) {
            probed = true;
            try {
                settings = discover(System.getenv());
                probe(settings);
            } catch (Unavailable e) {
                settings = null;
                unavailable = e.getMessage();
            }
        }
        return unavailable;
    }

    /** The settings of the answering API server; only where the tier runs (see {@link Tier#REAL_API}). */
    public static synchronized Settings settings() {
        if (unavailableReason() != null) {
            throw new IllegalStateException("no real API server: " + unavailable);
        }
        return settings;
    }

    /** A new client with every right (the script's admin certificate, group system:masters). */
    public static KubernetesClient newAdminClient() {
        return adminClient(settings());
    }

    private static KubernetesClient adminClient(Settings s) {
        Config config = new ConfigBuilder(Config.fromKubeconfig(s.kubeconfig().toFile()))
                .withConnectionTimeout(3_000)
                .withRequestTimeout(15_000)
                .build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    static Settings discover(Map<String, String> env) {
        Map<String, String> vars;
        String source;
        if (env.get("PLAYGROUND_K8S_API_URL") != null) {
            vars = env;
            source = "the environment";
        } else {
            Path file = Path.of(Objects.requireNonNullElse(env.get("PLAYGROUND_K8S_DIR"), DEFAULT_DIR), "env");
            if (!Files.isRegularFile(file)) {
                throw new Unavailable("no real API server configured: PLAYGROUND_K8S_API_URL is not set and " + file
                        + " does not exist; " + HOW_TO_START);
            }
            vars = parseEnvFile(file);
            source = file.toString();
        }
        String url = required(vars, "PLAYGROUND_K8S_API_URL", source);
        Path kubeconfig = existing(vars, "KUBECONFIG", source);
        Path ca = existing(vars, "PLAYGROUND_K8S_CA_FILE", source);
        Path audit = Path.of(required(vars, "PLAYGROUND_K8S_AUDIT_LOG", source));
        String server = Config.fromKubeconfig(kubeconfig.toFile()).getMasterUrl();
        if (!stripSlash(server).equals(stripSlash(url))) {
            throw new Unavailable("KUBECONFIG " + kubeconfig + " points at " + server + ", not at the test cluster "
                    + url + " (from " + source + "); refusing to run tests against another cluster");
        }
        return new Settings(kubeconfig, url, ca, audit, source);
    }

    private static void probe(Settings s) {
        try (KubernetesClient admin = adminClient(s)) {
            VersionInfo version = admin.getKubernetesVersion();
            if (version == null || version.getGitVersion() == null) {
                throw new Unavailable("the API server at " + s.apiUrl() + " did not report its version");
            }
        } catch (RuntimeException e) {
            if (e instanceof Unavailable u) {
                throw u;
            }
            throw new Unavailable("the API server at " + s.apiUrl() + " (from " + s.source() + ") does not answer: "
                    + rootCause(e) + "; " + HOW_TO_START);
        }
        if (!Files.isReadable(s.auditLog())) {
            throw new Unavailable("the API server's audit log " + s.auditLog() + " is not readable here");
        }
    }

    /** Reads the {@code export NAME=VALUE} lines test-cluster.sh writes (values quoted with bash's printf %q). */
    static Map<String, String> parseEnvFile(Path file) {
        Map<String, String> vars = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String l = line.strip();
                if (l.startsWith("export ")) {
                    l = l.substring("export ".length()).strip();
                }
                int eq = l.indexOf('=');
                if (l.startsWith("#") || eq <= 0) {
                    continue;
                }
                vars.put(l.substring(0, eq), unquote(l.substring(eq + 1)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return vars;
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
            return v.substring(1, v.length() - 1);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\' && i + 1 < v.length()) {
                c = v.charAt(++i);
            }
            out.append(c);
        }
        return out.toString();
    }

    private static String required(Map<String, String> vars, String name, String source) {
        String v = vars.get(name);
        if (v == null || v.isBlank()) {
            throw new Unavailable(name + " is not set in " + source);
        }
        return v;
    }

    private static Path existing(Map<String, String> vars, String name, String source) {
        Path p = Path.of(required(vars, name, source));
        if (!Files.isReadable(p)) {
            throw new Unavailable(name + "=" + p + " (from " + source + ") is not a readable file; " + HOW_TO_START);
        }
        return p;
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e
                ? String.valueOf(e.getMessage())
                : e.getMessage() + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }

    private static String stripSlash(String url) {
        return url == null ? "" : url.replaceAll("/+$", "");
    }

    private static final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message);
        }
    }
}
