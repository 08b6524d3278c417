package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.opentest4j.TestAbortedException;

/**
 * What kustomize makes of each folder, as `kubectl apply -k` would: every namespaced object in the
 * one namespace, a retag that reaches exactly the Knative Services, and a broken kustomization that
 * fails the render instead of passing unseen.
 */
class KustomizeBuildTest {

    @ParameterizedTest
    @ValueSource(strings = {"knative", "istio"})
    void kustomizeRendersTheFolderIntoOneNamespace(String folder) {
        ManifestFolder rendered = ManifestFolder.ofRepository(folder);
        assertThat(rendered.namespace()).isEqualTo("sqlflow-playground");
        assertThat(rendered.docs()).isNotEmpty();
        for (ManifestFolder.Doc doc : rendered.docs()) {
            HasMetadata object = (HasMetadata) doc.resource();
            if (object instanceof Namespace) {
                assertThat(object.getMetadata().getName()).isEqualTo(rendered.namespace());
            } else {
                assertThat(object.getMetadata().getNamespace()).as(doc.where()).isEqualTo(rendered.namespace());
            }
        }
    }

    @Test
    void theAlertRulesRenderOnTheirOwnIntoTheNamespace() {
        String rendered =
                Kustomize.build(ManifestFolder.repositoryDir("knative").resolve("monitoring"));
        assertThat(rendered)
                .contains("kind: PrometheusRule")
                .contains("namespace: sqlflow-playground")
                .contains("alert: PlaygroundWarmPoolEmpty");
        assertThat(Kustomize.build(ManifestFolder.repositoryDir("knative"))).doesNotContain("PrometheusRule");
    }

    /** The README's retag (`kustomize edit set image`), made by an overlay of knative/: it reaches the three Services. */
    @Test
    void aRetagReachesEveryKnativeServiceAndNothingElse(@TempDir Path overlay) throws Exception {
        Path knative = ManifestFolder.repositoryDir("knative");
        Files.writeString(overlay.resolve("kustomization.yaml"), """
        bases:
          - %s
        images:
          - name: sqlflow-playground
            newName: registry.example.com/sqlflow-playground
            newTag: 0.1.0
        """.formatted(overlay.relativize(knative)));
        Deployment retagged = new Deployment(
                "sqlflow-playground",
                "sqlflow-playground",
                ManifestFolder.render(overlay).docs().stream()
                        .map(ManifestFolder.Doc::resource)
                        .toList());
        assertThat(retagged.knativeServices())
                .hasSize(4)
                .allSatisfy(s -> assertThat(Deployment.container(s).getImage())
                        .isEqualTo("registry.example.com/sqlflow-playground:0.1.0"));
        Deployment repository = Deployment.ofRepository();
        assertThat(repository.knativeServices())
                .hasSize(4)
                .allSatisfy(s -> assertThat(Deployment.container(s).getImage()).isEqualTo("sqlflow-playground:latest"));
        assertThat(retagged.cronJobs())
                .singleElement()
                .extracting(KustomizeBuildTest::cronJobImage)
                .isEqualTo(cronJobImage(repository.cronJobs().get(0)));
    }

    /** What a Service would be if kustomize skipped its patch (as kustomize 5 does when the target is gone): it fails. */
    @Test
    void theBaseAloneFailsTheServiceChecks() {
        Deployment baseOnly = new Deployment(
                "sqlflow-playground",
                "sqlflow-playground",
                ManifestFolder.render(ManifestFolder.repositoryDir("knative/services/base")).docs().stream()
                        .map(ManifestFolder.Doc::resource)
                        .toList());
        assertThat(baseOnly.knativeServices())
                .singleElement()
                .satisfies(s -> assertThat(s.getMetadata().getName()).isEqualTo("playground"));
        assertThat(ManifestChecks.knativeServices(baseOnly))
                .anyMatch(p -> p.contains("must serve exactly one function"))
                .anyMatch(p -> p.contains("must run as its own service account"))
                .anyMatch(p -> p.contains("must set autoscaling.knative.dev/min-scale and max-scale deliberately"))
                .anyMatch(p -> p.contains("must set containerConcurrency"))
                .anyMatch(p -> p.contains("must limit memory"));
        assertThat(ManifestChecks.proofMounts(baseOnly)).anyMatch(p -> p.contains("mounts null"));
    }

    private static String cronJobImage(CronJob cronJob) {
        return cronJob.getSpec()
                .getJobTemplate()
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getImage();
    }

    /**
     * A JSON patch that cannot apply fails the render. (One whose target is missing fails it in
     * kustomize 2.0.3 only; kustomize 5 skips it silently, which the checks of the rendered Services catch.)
     */
    @Test
    void aPatchThatCannotApplyFailsTheRender(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("kustomization.yaml"), """
        resources: [service.yaml]
        patchesJson6902:
          - target: {group: serving.knative.dev, version: v1, kind: Service, name: playground}
            path: patch.yaml
        """);
        Files.writeString(dir.resolve("service.yaml"), """
        apiVersion: serving.knative.dev/v1
        kind: Service
        metadata:
          name: playground
        """);
        Files.writeString(
                dir.resolve("patch.yaml"),
                "- {op: replace, path: /spec/template/spec/containerConcurrency, value: 1}\n");
        Kustomize.require(dir);
        assertThatThrownBy(() -> Kustomize.build(dir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("failed (exit")
                .hasMessageContaining("containerConcurrency");
    }

    // Finding kustomize, and what its absence means.

    @Test
    void kubectlIsPreferredAndKustomizeFoundWithoutIt(@TempDir Path tmp) throws Exception {
        Path first = Files.createDirectories(tmp.resolve("first"));
        Path second = Files.createDirectories(tmp.resolve("second"));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Path dir = Path.of("knative");
        executable(first.resolve("kustomize"));
        assertThat(Kustomize.command(empty + File.pathSeparator + first, dir))
                .contains(List.of(first.resolve("kustomize").toString(), "build", "knative"));
        executable(second.resolve("kubectl"));
        assertThat(Kustomize.command(first + File.pathSeparator + second, dir))
                .contains(List.of(second.resolve("kubectl").toString(), "kustomize", "knative"));
        assertThat(Kustomize.command(empty.toString(), dir)).isEmpty();
        assertThat(Kustomize.command(null, dir)).isEmpty();
    }

    @Test
    void withoutKustomizeCiFailsAndEverywhereElseSkips() {
        assertThat(Kustomize.unavailable("no kubectl", true))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("CI=true")
                .hasMessageContaining("no kubectl");
        assertThatThrownBy(() -> Kustomize.unavailable("no kubectl", false))
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("no kubectl");
    }

    private static void executable(Path file) throws Exception {
        Files.writeString(file, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
