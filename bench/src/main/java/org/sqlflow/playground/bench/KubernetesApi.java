package org.sqlflow.playground.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Kubernetes API server (kube-apiserver + etcd from .ci/test-cluster.sh), from the env file that script
 * writes: its admin kubeconfig, version, audit log and whether its controller manager runs.
 */
record KubernetesApi(
        Path envFile,
        Path kubeconfig,
        TlsClient client,
        URI url,
        String version,
        boolean controllerManager,
        Path auditLog) {

    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final Pattern ENV_LINE = Pattern.compile("^(?:export\\s+)?([A-Z0-9_]+)=['\"]?([^'\"]*)['\"]?$");
    private static final Pattern REQUEST_TOTAL =
            Pattern.compile("(?m)^apiserver_request_total\\{([^}]*)} ([0-9.eE+]+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    /** The API server an env file describes, or null when there is no such file. */
    static KubernetesApi load(Path envFile) throws Exception {
        if (!Files.exists(envFile)) {
            return null;
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : Files.readAllLines(envFile)) {
            Matcher m = ENV_LINE.matcher(line.trim());
            if (m.find()) {
                env.put(m.group(1), m.group(2));
            }
        }
        Path kubeconfig = Path.of(env.get("KUBECONFIG"));
        Config config = Config.fromKubeconfig(kubeconfig.toFile());
        URI url = URI.create(config.getMasterUrl());
        if (config.getCaCertFile() == null || config.getClientCertFile() == null || config.getClientKeyFile() == null) {
            throw new IllegalStateException(kubeconfig + ": expected files for the CA, client certificate and key");
        }
        TlsClient client = TlsClient.of(
                Path.of(config.getCaCertFile()),
                Path.of(config.getClientCertFile()),
                Path.of(config.getClientKeyFile()),
                url.getPort(),
                null);
        Path dir = env.get("PLAYGROUND_K8S_DIR") == null ? null : Path.of(env.get("PLAYGROUND_K8S_DIR"));
        Path pid = dir == null ? null : dir.resolve("controller-manager.pid");
        boolean controllerManager = pid != null
                && Files.exists(pid)
                && Files.exists(Path.of("/proc/" + Files.readString(pid).trim()));
        String audit = env.get("PLAYGROUND_K8S_AUDIT_LOG");
        return new KubernetesApi(
                envFile,
                kubeconfig,
                client,
                url,
                env.get("PLAYGROUND_K8S_VERSION"),
                controllerManager,
                audit == null ? null : Path.of(audit));
    }

    String describe() {
        return "kube-apiserver " + version + " with etcd (.ci/test-cluster.sh) at " + url + ", controller manager "
                + (controllerManager ? "running" : "stopped") + "; API calls counted "
                + (auditLog != null
                        ? "in its audit log (the server's own requests, in its namespace)"
                        : "from its apiserver_request_total metric");
    }

    void createNamespace(String name) throws IOException {
        String body = SERIALIZATION.asJson(new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .build());
        try (Connection c = client.open()) {
            Connection.Response r = c.send("POST", "/api/v1/namespaces", body, Connection.JSON);
            if (r.status() / 100 != 2) {
                throw new IllegalStateException("creating namespace " + name + ": " + r.status() + " " + r.body());
            }
        }
    }

    /**
     * Every client's requests by verb and resource, from apiserver_request_total: the fallback when the API
     * server writes no audit log (then nothing else may talk to it during a phase).
     */
    Map<String, Long> requestTotals() throws IOException {
        String text;
        try (Connection c = client.open()) {
            text = c.get("/metrics").body();
        }
        Map<String, Long> out = new TreeMap<>();
        Matcher m = REQUEST_TOTAL.matcher(text);
        while (m.find()) {
            Map<String, String> labels = new TreeMap<>();
            Matcher l = LABEL.matcher(m.group(1));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            String resource = labels.getOrDefault("resource", "");
            if (resource.isEmpty()) {
                continue; // non-resource URLs (/metrics, /healthz)
            }
            String sub = labels.getOrDefault("subresource", "");
            String kind =
                    ApiCalls.verb(labels.getOrDefault("verb", "")) + " " + resource + (sub.isEmpty() ? "" : "/" + sub);
            out.merge(kind, (long) Double.parseDouble(m.group(2)), Long::sum);
        }
        return out;
    }
}
