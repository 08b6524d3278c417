package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.testing.RealApi;
import org.sqlflow.playground.testing.RealApiTestCluster;
import org.sqlflow.playground.testing.RealApiTier;

/**
 * The core Kubernetes objects of knative/ as kustomize renders it (ServiceAccount, Role, RoleBinding, NetworkPolicy,
 * Namespace) pass the real API server's validation and admission, by server-side dry run (nothing is stored), each
 * moved from the playground's namespace into this test's.
 *
 * <p>Not checkable here, and left to the manifest tests: the reaper's batch/v1 CronJob (batch/v1 CronJob exists
 * from Kubernetes 1.21; this server is 1.20, which has only batch/v1beta1), and the Knative Services (and istio/'s
 * objects), whose CRDs are not installed on this server. Each such kind is dry-run anyway wherever the server does
 * serve it, so a newer test cluster checks them without a change here.
 */
@RealApiTier
class RealApiDryRunTest {

    private static final List<String> CORE_KINDS =
            List.of("ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "Namespace");
    private static KubernetesClient admin;
    private static String namespace;

    @BeforeAll
    static void namespace() {
        admin = RealApi.newAdminClient();
        namespace = RealApiTestCluster.RUN_PREFIX + "dryrun";
        admin.namespaces()
                .resource(new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(namespace)
                        .endMetadata()
                        .build())
                .create();
    }

    @AfterAll
    static void cleanUp() {
        if (admin != null) {
            admin.namespaces().withName(namespace).delete();
            admin.close();
        }
    }

    @Test
    void theCoreKindsOfKnativeFolderPassServerSideDryRun() {
        ManifestFolder knative = ManifestFolder.ofRepository("knative");
        Map<String, String> checked = new TreeMap<>();
        Map<String, String> notServed = new TreeMap<>();
        List<String> checkedKinds = new ArrayList<>();
        List<String> notServedKinds = new ArrayList<>();
        for (ManifestFolder.Doc doc : knative.docs()) {
            HasMetadata item = (HasMetadata) ManifestFolder.SERIALIZATION.clone(doc.resource());
            String[] gv = doc.apiVersion().split("/");
            boolean served = admin.supports(doc.apiVersion(), doc.kind());
            if (!served) {
                notServed.put(
                        doc.where(),
                        doc.apiVersion() + " " + doc.kind() + " is not served by this API server ("
                                + admin.getKubernetesVersion().getGitVersion() + ")");
                notServedKinds.add(doc.kind());
                continue;
            }
            HasMetadata created;
            if (item instanceof Namespace) {
                created = admin.resource(item).dryRun().create();
                assertThat(admin.namespaces()
                                .withName(item.getMetadata().getName())
                                .get())
                        .as("dry run stores nothing")
                        .isNull();
            } else {
                item.getMetadata().setNamespace(namespace);
                created = admin.resource(item).dryRun().create();
                assertThat(admin.resources(item.getClass())
                                .inNamespace(namespace)
                                .withName(item.getMetadata().getName())
                                .get())
                        .as("dry run stores nothing")
                        .isNull();
            }
            assertThat(created.getMetadata().getUid()).as(doc.where()).isNotBlank();
            checked.put(doc.where(), gv.length == 1 ? "core/" + gv[0] : doc.apiVersion());
            checkedKinds.add(doc.kind());
        }
        System.out.println("Server-side dry run of knative/ against the real API server:");
        checked.forEach((k, v) -> System.out.println("  checked      " + k + "  " + v));
        notServed.forEach(
                (k, v) -> System.out.println("  NOT CHECKED  " + k + "  " + v + "; the manifest tests check it"));

        assertThat(checkedKinds).containsAll(CORE_KINDS);
        assertThat(notServedKinds).as("kinds the server does not serve").isSubsetOf("Service", "CronJob");
    }

    /** The control: the dry run does validate, so the test above could fail. */
    @Test
    void anInvalidObjectFailsTheDryRun() {
        NetworkPolicy policy = (NetworkPolicy) ManifestFolder.ofRepository("knative").docs().stream()
                .filter(d -> d.resource() instanceof NetworkPolicy)
                .findFirst()
                .orElseThrow()
                .resource();
        NetworkPolicy broken = ManifestFolder.SERIALIZATION.clone(policy);
        broken.getMetadata().setNamespace(namespace);
        broken.getSpec()
                .getIngress()
                .get(0)
                .getPorts()
                .get(0)
                .setPort(new io.fabric8.kubernetes.api.model.IntOrString(70000));
        assertThatThrownBy(() -> admin.resource(broken).dryRun().create())
                .isInstanceOfSatisfying(
                        KubernetesClientException.class,
                        e -> assertThat(e.getCode()).isEqualTo(422));
    }
}
