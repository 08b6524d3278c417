package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.sqlflow.playground.config.KubernetesConfiguration;
import org.sqlflow.playground.settings.PlaygroundProperties;

/**
 * The playground's identities in a test namespace, made from the repository's {@code knative/rbac.yaml} itself
 * (a ServiceAccount, Role and RoleBinding per function, only their namespace set), and clients authenticated as
 * each of those ServiceAccounts with a bearer token, tuned exactly like production's client. A verb a function
 * needs and its Role lacks is then a 403 in the test, as it would be in the cluster.
 */
public final class PlaygroundServiceAccount {

    /** Each function's ServiceAccount (and Role, and RoleBinding) in knative/rbac.yaml: its Knative Service's name. */
    public static final Map<String, String> FOR_FUNCTION = Map.of(
            "create_db", "playground-create-db",
            "heart_beat", "playground-heart-beat",
            "reap_stale", "playground-reap-stale",
            "databases", "playground-databases");
    /** A standalone server's ServiceAccount in the node tier: every function's Role, bound to one account. */
    public static final String STANDALONE = "playground-standalone";
    // Generous: on a busy machine the token controller has taken over a minute.
    private static final Duration TOKEN_WAIT = Duration.ofSeconds(180);

    private PlaygroundServiceAccount() {}

    /** {@code knative/rbac.yaml} of this repository, found from the module directory upwards. */
    public static Path rbacFile() {
        return repositoryFile("knative/rbac.yaml");
    }

    /** A file of the repository by its path from the repository root. */
    public static Path repositoryFile(String relative) {
        Path dir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path candidate = d.resolve(relative);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(relative + " not found above " + dir);
    }

    /** The objects of knative/rbac.yaml as fabric8 parses them. */
    public static List<HasMetadata> rbacObjects(KubernetesClient client) {
        try (InputStream in = Files.newInputStream(rbacFile())) {
            return client.load(in).items();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Role of {@code function} in knative/rbac.yaml. */
    public static Role role(KubernetesClient client, String function) {
        String name = FOR_FUNCTION.get(function);
        return rbacObjects(client).stream()
                .filter(Role.class::isInstance)
                .map(Role.class::cast)
                .filter(r -> r.getMetadata().getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("knative/rbac.yaml has no Role " + name));
    }

    /**
     * Applies knative/rbac.yaml into {@code namespace} as admin and returns, per function, a client that is that
     * function's ServiceAccount. Each token comes from a Secret of type service-account-token that the token
     * controller fills (the controller manager in 1.20 also makes one by itself; asking explicitly works on every
     * version).
     */
    public static Map<String, KubernetesClient> applyAndLogIn(KubernetesClient admin, String namespace) {
        apply(admin, namespace);
        // Pods are admitted only once the namespace's "default" ServiceAccount exists (ServiceAccount admission):
        // without it the ReplicaSet controller's first pod creations fail and back off.
        Waits.await("the ServiceAccount controller to make " + namespace + "/default", TOKEN_WAIT)
                .until(() -> admin.serviceAccounts()
                                .inNamespace(namespace)
                                .withName("default")
                                .get()
                        != null);
        Map<String, KubernetesClient> clients = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, String> f : new java.util.TreeMap<>(FOR_FUNCTION).entrySet()) {
            clients.put(f.getKey(), logIn(admin, namespace, f.getValue()));
        }
        return Map.copyOf(clients);
    }

    /**
     * The account of a standalone server, which serves all three functions in one process (the original playground
     * server's way of running): a ServiceAccount of its own, bound to each function's Role of knative/rbac.yaml and
     * to nothing else. It is not one of {@link #FOR_FUNCTION}, so the per-function least-privilege check does not count it.
     */
    public static KubernetesClient logInStandalone(KubernetesClient admin, String namespace) {
        String account = STANDALONE;
        admin.serviceAccounts()
                .inNamespace(namespace)
                .resource(new ServiceAccountBuilder()
                        .withNewMetadata()
                        .withName(account)
                        .endMetadata()
                        .build())
                .create();
        for (String role : new TreeSet<>(FOR_FUNCTION.values())) {
            admin.rbac()
                    .roleBindings()
                    .inNamespace(namespace)
                    .resource(new RoleBindingBuilder()
                            .withNewMetadata()
                            .withName(account + "-" + role)
                            .endMetadata()
                            .withNewRoleRef()
                            .withApiGroup("rbac.authorization.k8s.io")
                            .withKind("Role")
                            .withName(role)
                            .endRoleRef()
                            .addNewSubject()
                            .withKind("ServiceAccount")
                            .withName(account)
                            .withNamespace(namespace)
                            .endSubject()
                            .build())
                    .create();
        }
        return logIn(admin, namespace, account);
    }

    private static KubernetesClient logIn(KubernetesClient admin, String namespace, String account) {
        String tokenSecret = account + "-test-token";
        admin.secrets()
                .inNamespace(namespace)
                .resource(new SecretBuilder()
                        .withNewMetadata()
                        .withName(tokenSecret)
                        .withAnnotations(Map.of("kubernetes.io/service-account.name", account))
                        .endMetadata()
                        .withType("kubernetes.io/service-account-token")
                        .build())
                .create();
        String token = Waits.await(
                        "the token controller to fill the token of ServiceAccount " + namespace + "/" + account,
                        TOKEN_WAIT)
                .until(
                        () -> {
                            Secret s = admin.secrets()
                                    .inNamespace(namespace)
                                    .withName(tokenSecret)
                                    .get();
                            String encoded = s == null || s.getData() == null
                                    ? null
                                    : s.getData().get("token");
                            return encoded == null
                                    ? null
                                    : new String(
                                            java.util.Base64.getDecoder().decode(encoded),
                                            java.nio.charset.StandardCharsets.UTF_8);
                        },
                        Objects::nonNull);
        Config admins = admin.getConfiguration();
        Config base = new ConfigBuilder(Config.empty())
                .withMasterUrl(admins.getMasterUrl())
                .withCaCertFile(admins.getCaCertFile())
                .withCaCertData(admins.getCaCertData())
                .withOauthToken(token)
                .withNamespace(namespace)
                .build();
        return new KubernetesClientBuilder()
                .withConfig(KubernetesConfiguration.tuned(base, defaults()))
                .build();
    }

    /** Creates knative/rbac.yaml's objects in {@code namespace}, changing nothing but their namespace. */
    public static void apply(KubernetesClient admin, String namespace) {
        for (HasMetadata item : rbacObjects(admin)) {
            item.getMetadata().setNamespace(namespace);
            admin.resource(item).inNamespace(namespace).create();
        }
    }

    /** Whether {@code client} presents this ServiceAccount's token and no client certificate. */
    public static boolean isServiceAccountClient(KubernetesClient client) {
        Config c = client.getConfiguration();
        return c.getOauthToken() != null
                && c.getClientCertData() == null
                && c.getClientCertFile() == null
                && c.getUsername() == null;
    }

    /** The audit log's user name of {@code function}'s ServiceAccount in {@code namespace}. */
    public static String username(String namespace, String function) {
        return "system:serviceaccount:" + namespace + ":" + FOR_FUNCTION.get(function);
    }

    /** Production's settings with every default (timeouts, retries). */
    static PlaygroundProperties defaults() {
        return TestSettings.bind(Map.of());
    }
}
