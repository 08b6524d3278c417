package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.settings.PlaygroundProperties;
import org.testcontainers.containers.Container;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A scenario's cluster in the k3s tier: a whole Kubernetes (API server, controllers, scheduler, kubelet,
 * containerd) in one Testcontainers container, so database pods really run and become Ready by their own
 * readiness probe. As in the real-API tier, each scenario gets a fresh namespace with knative/rbac.yaml's objects
 * and {@link #client(String)} is a function's ServiceAccount.
 */
public final class K3sTestCluster implements TestCluster {

    public static final String K3S_IMAGE = "rancher/k3s:v1.34.1-k3s1";
    /** Honours MYSQL_ROOT_PASSWORD and carries the mysql client the readiness probe runs. */
    public static final String DATABASE_IMAGE = "mysql:8.4";

    private static final Duration READY_WAIT = Duration.ofMinutes(5);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One k3s container, shared by a test class's scenarios. */
    public static final class Server implements AutoCloseable {
        private final K3sContainer container;
        private final Config admin;

        private Server(K3sContainer container) {
            this.container = container;
            this.admin = Config.fromKubeconfig(container.getKubeConfigYaml());
        }

        /**
         * Starts k3s and pulls the database image into it. Throws {@link Unavailable} saying why when that cannot
         * be done here: no container engine, or an image that cannot be pulled.
         */
        public static Server start() {
            K3sContainer k3s;
            try {
                k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE));
                k3s.start();
            } catch (Throwable e) {
                throw new Unavailable(
                        "k3s could not start here (" + K3S_IMAGE + " in a container engine): " + describe(e));
            }
            try {
                // Pulled before the scenarios, so that their readiness waits measure MySQL's start, not a download.
                Container.ExecResult pull = k3s.execInContainer("crictl", "pull", DATABASE_IMAGE);
                if (pull.getExitCode() != 0) {
                    throw new IllegalStateException(pull.getStderr().strip());
                }
                return new Server(k3s);
            } catch (Exception e) {
                k3s.stop();
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                throw new Unavailable(
                        "k3s started, but it cannot pull the database image " + DATABASE_IMAGE + ": " + describe(e));
            }
        }

        KubernetesClient newAdminClient() {
            return new KubernetesClientBuilder().withConfig(admin).build();
        }

        @Override
        public void close() {
            container.stop();
        }

        private static String describe(Throwable e) {
            StringBuilder b = new StringBuilder();
            for (Throwable t = e; t != null && b.length() < 600; t = t.getCause()) {
                b.append(b.isEmpty() ? "" : " <- ")
                        .append(t.getClass().getSimpleName())
                        .append(": ")
                        .append(t.getMessage());
            }
            return b.toString();
        }
    }

    private static Server shared;
    private static String unavailable;
    private static boolean tried;

    /**
     * Why k3s cannot run here, or null when it can. The first call starts the run's one k3s, which every scenario
     * of the tier shares (each in a namespace of its own) and which stops when the JVM ends.
     */
    public static synchronized String unavailableReason() {
        if (!tried) {
            tried = true;
            try {
                shared = Server.start();
                Runtime.getRuntime().addShutdownHook(new Thread(shared::close, "k3s-stop"));
            } catch (Unavailable e) {
                unavailable = e.getMessage();
            }
        }
        return unavailable;
    }

    /** Why k3s cannot run here; tests skip with this message. */
    public static final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message);
        }
    }

    private final KubernetesClient admin;
    private final Map<String, KubernetesClient> clients;
    private final String namespace;

    /** A fresh namespace on the run's k3s; only where the tier runs (see {@link Tier#K3S}). */
    public K3sTestCluster() {
        this(sharedServer());
    }

    private static synchronized Server sharedServer() {
        Tier.K3S.require();
        return shared;
    }

    public K3sTestCluster(Server server) {
        this.namespace = "pg-k3s-" + Integer.toString(RANDOM.nextInt(Integer.MAX_VALUE), 36);
        this.admin = server.newAdminClient();
        admin.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(namespace)
                        .endMetadata()
                        .build())
                .create();
        this.clients = PlaygroundServiceAccount.applyAndLogIn(admin, namespace);
    }

    @Override
    public KubernetesClient client(String function) {
        KubernetesClient c = clients.get(function);
        if (c == null) {
            throw new IllegalArgumentException("no function " + function);
        }
        return c;
    }

    @Override
    public KubernetesClient admin() {
        return admin;
    }

    @Override
    public String namespace() {
        return namespace;
    }

    /** The kubelet is real here: this only waits until the database's own readiness probe passes. */
    @Override
    public void markDatabaseReady(String deploymentName) {
        Waits.await(
                        "MySQL of Deployment " + namespace + "/" + deploymentName + " to pass its readiness probe",
                        READY_WAIT)
                .until(() -> DatabaseRoot.isReady(admin.apps()
                        .deployments()
                        .inNamespace(namespace)
                        .withName(deploymentName)
                        .get()));
    }

    /** A real MySQL whose own entrypoint sets the root password; more CPU than production so it starts quickly. */
    @Override
    public PlaygroundProperties.Database database(Duration readyWait, int maxDatabases) {
        PlaygroundProperties.Database d = PlaygroundParts.database(readyWait, maxDatabases);
        return new PlaygroundProperties.Database(
                DATABASE_IMAGE,
                PlaygroundProperties.Entrypoint.IMAGE,
                d.port(),
                d.user(),
                d.serviceDomain(),
                d.readyWait(),
                d.retryAfter(),
                d.runAsUser(),
                d.maxDatabases(),
                new PlaygroundProperties.Resources("100m", "2", "256Mi", "1Gi"),
                d.storage());
    }

    @Override
    public boolean hasGarbageCollector() {
        return true;
    }

    @Override
    public void close() {
        try {
            clients.values().forEach(KubernetesClient::close);
            admin.namespaces().withName(namespace).delete();
        } finally {
            admin.close();
        }
    }
}
