package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.networking.v1.Gateway;
import io.fabric8.knative.serving.v1.Service;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each folder's files: every one used by its kustomization, and every document kustomize renders a
 * known, fully typed kind.
 */
class ManifestFilesTest {

    @ParameterizedTest
    @ValueSource(strings = {"knative", "istio"})
    void theKustomizationUsesEveryFileOfItsFolder(String folder) {
        assertThat(ManifestFolder.unusedOrMissingFiles(ManifestFolder.repositoryDir(folder)))
                .isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"knative", "istio"})
    void everyDocumentParsesIntoItsTypedModel(String folder) {
        ManifestFolder f = ManifestFolder.ofRepository(folder);
        assertThat(f.docs()).isNotEmpty();
        assertThat(ManifestChecks.typedModels(f.docs())).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"knative", "istio"})
    void noDocumentHasAFieldItsModelDoesNotKnow(String folder) {
        for (ManifestFolder.Doc doc : ManifestFolder.ofRepository(folder).docs()) {
            assertThat(ManifestChecks.unknownFields(doc.resource()))
                    .as(doc.where())
                    .isEmpty();
        }
    }

    @Test
    void theDeploymentHasTheExpectedObjects() {
        Deployment d = Deployment.ofRepository();
        assertThat(d.knativeServices())
                .extracting(s -> s.getMetadata().getName())
                .containsExactlyInAnyOrder(
                        "playground-create-db",
                        "playground-heart-beat",
                        "playground-reap-stale",
                        "playground-databases");
        assertThat(d.gateways()).extracting(g -> g.getMetadata().getName()).containsExactly("playground-gateway");
        assertThat(d.cronJobs()).extracting(c -> c.getMetadata().getName()).containsExactly("playground-reaper");
        assertThat(d.serviceAccounts())
                .extracting(s -> s.getMetadata().getName())
                .containsExactlyInAnyOrder(
                        "playground-create-db",
                        "playground-heart-beat",
                        "playground-reap-stale",
                        "playground-databases",
                        "playground-reaper");
    }

    // The checks above must be able to fail.

    @Test
    void anUnusedFileAndAMissingOneAreReported(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("kustomization.yaml"), """
        resources: [a.yaml, c.yaml]
        bases: [base]
        """);
        Files.writeString(dir.resolve("a.yaml"), "kind: ConfigMap\n");
        Files.writeString(dir.resolve("b.yaml"), "kind: ConfigMap\n");
        Files.createDirectories(dir.resolve("base"));
        Files.writeString(dir.resolve("base/kustomization.yaml"), "patchesJson6902: [{path: patch.yaml}]\n");
        Files.writeString(dir.resolve("base/patch.yaml"), "[]\n");
        Files.createDirectories(dir.resolve("unused"));
        Files.writeString(dir.resolve("unused/kustomization.yaml"), "resources: []\n");
        assertThat(ManifestFolder.unusedOrMissingFiles(dir))
                .containsExactlyInAnyOrder(
                        "kustomization.yaml names c.yaml, which is not a file",
                        "b.yaml is used by no kustomization.yaml reached from " + dir.getFileName() + "/",
                        "unused/kustomization.yaml is used by no kustomization.yaml reached from " + dir.getFileName()
                                + "/");
    }

    @Test
    void aMisspeltFieldIsReported() {
        List<ManifestFolder.Doc> docs = ManifestFolder.parseDocuments("broken.yaml", """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata:
          name: g
        spec:
          selector:
            istio: ingressgateway
          servers:
            - port: {number: 443, name: https, protocol: HTTPS}
              hosts: ["*"]
              tls:
                mode: MUTUAL
                credentialNmae: typo
        """);
        assertThat(docs).singleElement().satisfies(doc -> {
            assertThat(doc.resource()).isInstanceOf(Gateway.class);
            assertThat(ManifestChecks.unknownFields(doc.resource()))
                    .containsExactly(".spec.servers[0].tls.credentialNmae");
        });
    }

    @Test
    void aKindThisDeploymentDoesNotUseIsReported() {
        List<ManifestFolder.Doc> docs = ManifestFolder.parseDocuments("extra.yaml", """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: stray
        ---
        apiVersion: serving.knative.dev/v1
        kind: Service
        metadata:
          name: ok
        """);
        assertThat(docs).hasSize(2);
        assertThat(docs.get(1).resource()).isInstanceOf(Service.class);
        assertThat(ManifestChecks.typedModels(docs))
                .containsExactly("extra.yaml#0 (ConfigMap stray): v1 ConfigMap is not a kind this deployment uses");
    }
}
