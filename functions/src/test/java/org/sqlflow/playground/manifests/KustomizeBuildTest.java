package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Renders each folder with the kustomize built into kubectl, as `kubectl apply -k` would, when a
 * kubectl is on the PATH (skipped otherwise): kustomize accepts the folder, puts every namespaced
 * object into the namespace, and its `images:` entry reaches the Knative Services.
 */
class KustomizeBuildTest {

  @ParameterizedTest
  @ValueSource(strings = {"knative", "istio"})
  void kustomizeRendersTheFolderIntoOneNamespace(String folder) throws Exception {
    Path kubectl = onPath("kubectl");
    assumeTrue(kubectl != null, "no kubectl on the PATH: kustomize rendering not checked here");
    ManifestFolder source = ManifestFolder.ofRepository(folder);

    Process process = new ProcessBuilder(kubectl.toString(), "kustomize", source.dir().toString())
        .redirectErrorStream(true)
        .start();
    byte[] out = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String rendered = new String(out, StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(rendered).isZero();

    List<ManifestFolder.Doc> docs = ManifestFolder.parseDocuments("kustomize " + folder, rendered);
    assertThat(docs).hasSameSizeAs(source.docs());
    String namespace = source.kustomization().namespace();
    for (ManifestFolder.Doc doc : docs) {
      HasMetadata object = (HasMetadata) doc.resource();
      if (object instanceof Namespace) {
        assertThat(object.getMetadata().getName()).isEqualTo(namespace);
      } else {
        assertThat(object.getMetadata().getNamespace()).as(doc.where()).isEqualTo(namespace);
      }
      if (object instanceof Service ksvc) {
        assertThat(Deployment.container(ksvc).getImage()).isEqualTo("sqlflow-playground:latest");
      }
      if (object instanceof CronJob cronJob) {
        assertThat(cronJob.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getServiceAccountName())
            .isEqualTo(ManifestChecks.REAPER_SERVICE_ACCOUNT);
      }
    }
  }

  private static Path onPath(String command) throws IOException {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, command);
      if (Files.isExecutable(candidate)) {
        return candidate.toRealPath();
      }
    }
    return null;
  }
}
