package org.sqlflow.playground.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.sqlflow.playground.config.KubernetesConfiguration;
import org.sqlflow.playground.config.PlaygroundProperties;

/**
 * The playground's identity in a test namespace, made from the repository's {@code knative/rbac.yaml} itself
 * (ServiceAccount, Role, RoleBinding, only their namespace set), and a client authenticated as that
 * ServiceAccount with a bearer token, tuned exactly like production's client. A verb the code needs and the
 * Role lacks is then a 403 in the test, as it would be in the cluster.
 */
public final class PlaygroundServiceAccount {

    /** The ServiceAccount, Role and RoleBinding name in knative/rbac.yaml. */
    public static final String NAME = "playground-functions";
    private static final String TOKEN_SECRET = NAME + "-test-token";
    private static final Duration TOKEN_WAIT = Duration.ofSeconds(60);

    private PlaygroundServiceAccount() {
    }

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

    /** The Role of knative/rbac.yaml. */
    public static Role role(KubernetesClient client) {
        return rbacObjects(client).stream().filter(Role.class::isInstance).map(Role.class::cast)
                .filter(r -> NAME.equals(r.getMetadata().getName())).findFirst()
                .orElseThrow(() -> new IllegalStateException("knative/rbac.yaml has no Role " + NAME));
    }

    /**
     * Applies knative/rbac.yaml into {@code namespace} as admin and returns a client that is the ServiceAccount.
     * The token comes from a Secret of type service-account-token that the token controller fills (the
     * controller manager in 1.20 also makes one by itself; asking explicitly works on every version).
     */
    public static KubernetesClient applyAndLogIn(KubernetesClient admin, String namespace) {
        apply(admin, namespace);
        admin.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName(TOKEN_SECRET)
                .withAnnotations(Map.of("kubernetes.io/service-account.name", NAME)).endMetadata()
                .withType("kubernetes.io/service-account-token").build()).create();
        String token = await(() -> {
            Secret s = admin.secrets().inNamespace(namespace).withName(TOKEN_SECRET).get();
            String encoded = s == null || s.getData() == null ? null : s.getData().get("token");
            return encoded == null ? null : new String(java.util.Base64.getDecoder().decode(encoded),
                    java.nio.charset.StandardCharsets.UTF_8);
        }, TOKEN_WAIT, "the token controller to fill the token of ServiceAccount " + namespace + "/" + NAME);
        // Pods are admitted only once the namespace's "default" ServiceAccount exists (ServiceAccount admission):
        // without it the ReplicaSet controller's first pod creations fail and back off.
        await(() -> admin.serviceAccounts().inNamespace(namespace).withName("default").get(), TOKEN_WAIT,
                "the ServiceAccount controller to make " + namespace + "/default");
        Config admins = admin.getConfiguration();
        Config base = new ConfigBuilder(Config.empty())
                .withMasterUrl(admins.getMasterUrl())
                .withCaCertFile(admins.getCaCertFile())
                .withCaCertData(admins.getCaCertData())
                .withOauthToken(token)
                .withNamespace(namespace)
                .build();
        return new KubernetesClientBuilder().withConfig(KubernetesConfiguration.tuned(base, defaults())).build();
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
        return c.getOauthToken() != null && c.getClientCertData() == null && c.getClientCertFile() == null
                && c.getUsername() == null;
    }

    /** The ServiceAccount object of knative/rbac.yaml. */
    public static ServiceAccount serviceAccount(KubernetesClient client) {
        return rbacObjects(client).stream().filter(ServiceAccount.class::isInstance).map(ServiceAccount.class::cast)
                .findFirst().orElseThrow(() -> new IllegalStateException("knative/rbac.yaml has no ServiceAccount"));
    }

    /** The audit log's user name of this ServiceAccount in {@code namespace}. */
    public static String username(String namespace) {
        return "system:serviceaccount:" + namespace + ":" + NAME;
    }

    /** Production's settings with every default (timeouts, retries). */
    static PlaygroundProperties defaults() {
        return new Binder(new MapConfigurationPropertySource(Map.of()))
                .bindOrCreate("playground", PlaygroundProperties.class);
    }

    public static <T> T await(Supplier<T> probe, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T value = probe.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout + " waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + what, e);
            }
        }
    }
}
