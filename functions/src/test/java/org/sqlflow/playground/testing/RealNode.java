package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * The node tier: the real-API tier plus a real node ({@code PLAYGROUND_K8S_NODE=true .ci/test-cluster.sh start}):
 * a kubelet with containerd runs the database pods, from images built from Debian packages (a MariaDB image, and a
 * replica of sqlflow/sqlflow:mysql). The script
 * writes the node's settings into the same env file as the API server's.
 *
 * <p>Outside CI a missing node skips the tier with the reason (a developer's machine, a non-root user); under
 * {@code CI=true} it fails it, as .ci/run starts the node there.
 */
public final class RealNode {

    static final String HOW_TO_START =
            "start one (as root) with `PLAYGROUND_K8S_NODE=true bash .ci/test-cluster.sh build`"
                    + " and `PLAYGROUND_K8S_NODE=true bash .ci/test-cluster.sh start`";

    /**
     * What a test needs to know about the node. {@code image} is the MariaDB image whose entrypoint honours
     * MYSQL_ROOT_PASSWORD; {@code replicaImage} the replica of sqlflow/sqlflow:mysql (the default image), which the
     * default entrypoint runs against.
     */
    public record Settings(
            String nodeName, String image, String replicaImage, Path kubeletRootDir, String podSubnet, String taint) {

        /**
         * The namespace annotation that lets a namespace's pods onto the node: admission (PodTolerationRestriction)
         * adds the toleration of the node's taint ({@code key=value:Effect}) to every pod there, so the product's
         * pod spec stays as it is.
         */
        public Map<String, String> tolerationAnnotation() {
            int eq = taint.indexOf('=');
            int colon = taint.lastIndexOf(':');
            return Map.of(
                    "scheduler.alpha.kubernetes.io/defaultTolerations",
                    String.format(
                            "[{\"key\":\"%s\",\"operator\":\"Equal\",\"value\":\"%s\",\"effect\":\"%s\"}]",
                            taint.substring(0, eq), taint.substring(eq + 1, colon), taint.substring(colon + 1)));
        }

        /** True for an address of the node's pod range (a /24: its first three octets). */
        public boolean inPodSubnet(String ip) {
            String prefix = podSubnet.substring(0, podSubnet.lastIndexOf('.') + 1);
            return ip != null && ip.startsWith(prefix);
        }
    }

    private static Settings settings;
    private static String unavailable;
    private static boolean probed;

    private RealNode() {}

    /** Why the tier cannot run, or null when it can. Probed once per JVM. */
    public static synchronized String unavailableReason() {
        if (!probed) {
            probed = true;
            String api = RealApi.unavailableReason();
            if (api != null) {
                unavailable = api;
            } else {
                try {
                    settings = discover(System.getenv());
                    probe(settings);
                } catch (IllegalStateException e) {
                    settings = null;
                    unavailable = e.getMessage();
                }
            }
        }
        return unavailable;
    }

    public static synchronized Settings settings() {
        if (unavailableReason() != null) {
            throw new IllegalStateException("no node: " + unavailable);
        }
        return settings;
    }

    static Settings discover(Map<String, String> env) {
        Map<String, String> vars = env.get("PLAYGROUND_K8S_API_URL") != null
                ? env
                : RealApi.parseEnvFile(
                        Path.of(Objects.requireNonNullElse(env.get("PLAYGROUND_K8S_DIR"), RealApi.DEFAULT_DIR), "env"));
        String node = vars.get("PLAYGROUND_K8S_NODE_NAME");
        if (node == null || node.isBlank()) {
            throw new IllegalStateException("the test cluster runs without a node; " + HOW_TO_START);
        }
        String image = vars.get("PLAYGROUND_K8S_NODE_IMAGE");
        String replica = vars.get("PLAYGROUND_K8S_NODE_REPLICA_IMAGE");
        String root = vars.get("PLAYGROUND_K8S_NODE_ROOT_DIR");
        String subnet = vars.get("PLAYGROUND_K8S_POD_SUBNET");
        String taint = vars.get("PLAYGROUND_K8S_NODE_TAINT");
        if (image == null
                || replica == null
                || root == null
                || subnet == null
                || taint == null
                || !taint.matches("[^=]+=[^:]*:\\w+")) {
            throw new IllegalStateException("the env file names node " + node
                    + " but not its images, kubelet root, pod range or taint; rebuild and restart the test cluster");
        }
        return new Settings(node, image, replica, Path.of(root), subnet, taint);
    }

    private static void probe(Settings s) {
        if (!Files.isDirectory(s.kubeletRootDir())) {
            throw new IllegalStateException(
                    "the kubelet's root " + s.kubeletRootDir() + " is not readable here (the node tier runs as root)");
        }
        try (KubernetesClient admin = RealApi.newAdminClient()) {
            Node node = admin.nodes().withName(s.nodeName()).get();
            boolean ready = node != null
                    && node.getStatus() != null
                    && node.getStatus().getConditions() != null
                    && node.getStatus().getConditions().stream()
                            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
            if (!ready) {
                throw new IllegalStateException("node " + s.nodeName() + " is not Ready; " + HOW_TO_START);
            }
        }
    }
}
