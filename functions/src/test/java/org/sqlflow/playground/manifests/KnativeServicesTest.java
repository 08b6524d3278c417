package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectFieldSelector;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The three Knative Services, and the names, namespaces and images that tie all files together. */
class KnativeServicesTest {

  private static Deployment repository;
  private static ManifestFolder.Kustomization knativeKustomization;

  @BeforeAll
  static void load() {
    repository = Deployment.ofRepository();
    knativeKustomization = ManifestFolder.ofRepository("knative").kustomization();
  }

  private static Deployment broken() {
    return repository.copy();
  }

  private static Container container(Deployment d, String service) {
    return Deployment.container(d.get(Service.class, service));
  }

  @Test
  void theRepositoryManifestsPassEveryServiceAndConsistencyCheck() {
    assertThat(ManifestChecks.knativeServices(repository)).isEmpty();
    assertThat(ManifestChecks.namespaces(repository)).isEmpty();
    assertThat(ManifestChecks.images(repository, knativeKustomization.imageNames())).isEmpty();
  }

  @Test
  void eachServiceServesItsOneFunction() {
    for (Map.Entry<String, String> e : ManifestChecks.SERVICE_FOR_FUNCTION.entrySet()) {
      assertThat(repository.serving(e.getKey())).map(s -> s.getMetadata().getName()).contains(e.getValue());
    }
  }

  @Test
  void aPublicKnativeRouteFails() {
    Deployment d = broken();
    Map<String, String> labels = new HashMap<>(d.get(Service.class, "playground-heart-beat").getMetadata().getLabels());
    labels.remove("networking.knative.dev/visibility");
    d.get(Service.class, "playground-heart-beat").getMetadata().setLabels(labels);
    assertThat(ManifestChecks.knativeServices(d)).anyMatch(p -> p.contains("playground-heart-beat is not labelled networking.knative.dev/visibility=cluster-local"));
  }

  @Test
  void aServiceServingTheWrongOrTwoFunctionsFails() {
    Deployment d = broken();
    Deployment.env(container(d, "playground-heart-beat"), "PLAYGROUND_API_FUNCTIONS").orElseThrow().setValue("create_db");
    Deployment.env(container(d, "playground-reap-stale"), "PLAYGROUND_API_FUNCTIONS").orElseThrow().setValue("reap_stale,heart_beat");
    assertThat(ManifestChecks.knativeServices(d))
        .anyMatch(p -> p.contains("playground-heart-beat serves create_db, which belongs to playground-create-db"))
        .anyMatch(p -> p.contains("create_db is served by both"))
        .anyMatch(p -> p.contains("playground-reap-stale must serve exactly one function"));
  }

  @Test
  void aServiceOutsideGatewayModeFails() {
    Deployment d = broken();
    Deployment.env(container(d, "playground-create-db"), "PLAYGROUND_IDENTITY_SOURCE").orElseThrow().setValue("tls");
    assertThat(ManifestChecks.knativeServices(d)).anyMatch(p -> p.contains("PLAYGROUND_IDENTITY_SOURCE=gateway"));
  }

  @Test
  void aProbeOnTheManagementPortFails() {
    // What Knative would do with it: rewrite the port to 8080, where /actuator/* is a 404.
    Deployment d = broken();
    Probe liveness = new Probe();
    liveness.setHttpGet(new HTTPGetAction(null, null, "/actuator/health/liveness", new IntOrString(8081), null));
    container(d, "playground-create-db").setLivenessProbe(liveness);
    container(d, "playground-heart-beat").setReadinessProbe(null);
    assertThat(ManifestChecks.knativeServices(d))
        .anyMatch(p -> p.contains("playground-create-db livenessProbe targets port 8081"))
        .anyMatch(p -> p.contains("playground-heart-beat readinessProbe is missing"));
  }

  @Test
  void aDownwardApiReferenceFails() {
    Deployment d = broken();
    EnvVar ns = Deployment.env(container(d, "playground-create-db"), "PLAYGROUND_NAMESPACE").orElseThrow();
    ns.setValue(null);
    EnvVarSource source = new EnvVarSource();
    source.setFieldRef(new ObjectFieldSelector(null, "metadata.namespace"));
    ns.setValueFrom(source);
    assertThat(ManifestChecks.knativeServices(d)).anyMatch(p -> p.contains("kubernetes.podspec-fieldref"));
    assertThat(ManifestChecks.namespaces(d)).anyMatch(p -> p.contains("PLAYGROUND_NAMESPACE null"));
  }

  @Test
  void aColdPublicFunctionOrMissingLimitsFail() {
    Deployment d = broken();
    Service heartBeat = d.get(Service.class, "playground-heart-beat");
    Map<String, String> annotations = new HashMap<>(heartBeat.getSpec().getTemplate().getMetadata().getAnnotations());
    annotations.put("autoscaling.knative.dev/min-scale", "0");
    heartBeat.getSpec().getTemplate().getMetadata().setAnnotations(annotations);
    container(d, "playground-create-db").getResources().setLimits(Map.of());
    assertThat(ManifestChecks.knativeServices(d))
        .anyMatch(p -> p.contains("playground-heart-beat is public and must keep a warm pod"))
        .anyMatch(p -> p.contains("playground-create-db must limit cpu"));
  }

  @Test
  void aServiceAccountThatDoesNotExistFails() {
    Deployment d = broken();
    d.get(ServiceAccount.class, "playground-functions").getMetadata().setName("functions");
    assertThat(ManifestChecks.rbac(d)).anyMatch(p -> p.contains("runs as playground-functions, which is not a ServiceAccount"));
  }

  // Names and namespaces across files

  @Test
  void aSecondNamespaceAnywhereFails() {
    Deployment d = new Deployment(repository.knativeNamespace(), "playground", repository.copy().resources());
    assertThat(ManifestChecks.namespaces(d)).anyMatch(p -> p.contains("istio/kustomization.yaml namespace playground differs"));

    Deployment e = broken();
    Deployment.env(container(e, "playground-heart-beat"), "PLAYGROUND_NAMESPACE").orElseThrow().setValue("default");
    e.get(Service.class, "playground-reap-stale").getMetadata().setNamespace("default");
    assertThat(ManifestChecks.namespaces(e))
        .anyMatch(p -> p.contains("playground-heart-beat has PLAYGROUND_NAMESPACE default"))
        .anyMatch(p -> p.contains("playground-reap-stale is in namespace default"));
  }

  @Test
  void aNamespaceWithoutSidecarInjectionFails() {
    Deployment d = broken();
    d.get(Namespace.class, repository.knativeNamespace()).getMetadata().setLabels(Map.of());
    assertThat(ManifestChecks.namespaces(d)).anyMatch(p -> p.contains("istio-injection=enabled"));
  }

  @Test
  void aMovedNamespaceThatLeavesHostsAndPrincipalsBehindFails() {
    // Changing only kustomize's namespace: the routes' hosts, the reaper's principal and URL still say sqlflow-playground.
    Deployment d = new Deployment("playground", "playground", repository.copy().resources());
    d.namespaceObjects().get(0).getMetadata().setName("playground");
    assertThat(ManifestChecks.namespaces(d))
        .anyMatch(p -> p.contains("names cluster.local/ns/sqlflow-playground/sa/playground-reaper but playground-reaper lives in playground"));
    assertThat(ManifestChecks.routes(d)).anyMatch(p -> p.contains("must rewrite the authority to <service>.playground.svc.cluster.local"));
    assertThat(ManifestChecks.reaperCronJob(d)).anyMatch(p -> p.contains("must call http://playground-reap-stale.playground.svc.cluster.local"));
  }

  @Test
  void anImageThatKustomizeCannotRetagFails() {
    Deployment d = broken();
    container(d, "playground-reap-stale").setImage("registry.example.com/other:1.0");
    assertThat(ManifestChecks.images(d, knativeKustomization.imageNames()))
        .anyMatch(p -> p.contains("playground-reap-stale runs registry.example.com/other:1.0"));
    assertThat(ManifestChecks.images(repository, List.of("something-else")))
        .anyMatch(p -> p.contains("images must list sqlflow-playground"));
  }

  @Test
  void imageNamesIgnoreTagAndDigest() {
    assertThat(ManifestChecks.imageName("sqlflow-playground:latest")).isEqualTo("sqlflow-playground");
    assertThat(ManifestChecks.imageName("localhost:5000/sqlflow-playground")).isEqualTo("localhost:5000/sqlflow-playground");
    assertThat(ManifestChecks.imageName("sqlflow-playground@sha256:abc")).isEqualTo("sqlflow-playground");
  }
}
