package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.networking.v1.VirtualService;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.sqlflow.playground.settings.PlaygroundProperties;

/** The three Knative Services, and the names and namespaces that tie all files together. */
@RendersManifests
class KnativeServicesTest {

    private static Deployment repository;

    @BeforeAll
    static void load() {
        repository = Deployment.ofRepository();
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
        assertThat(ManifestChecks.reaperSettings(repository)).isEmpty();
        assertThat(ManifestChecks.namespaces(repository)).isEmpty();
    }

    @Test
    void eachServiceServesItsOneFunction() {
        for (Map.Entry<String, String> e : ManifestChecks.SERVICE_FOR_FUNCTION.entrySet()) {
            assertThat(repository.serving(e.getKey()))
                    .map(s -> s.getMetadata().getName())
                    .contains(e.getValue());
        }
    }

    @Test
    void aPublicKnativeRouteFails() {
        Deployment d = broken();
        Map<String, String> labels = new HashMap<>(
                d.get(Service.class, "playground-heart-beat").getMetadata().getLabels());
        labels.remove("networking.knative.dev/visibility");
        d.get(Service.class, "playground-heart-beat").getMetadata().setLabels(labels);
        assertThat(ManifestChecks.knativeServices(d))
                .anyMatch(p -> p.contains(
                        "playground-heart-beat is not labelled networking.knative.dev/visibility=cluster-local"));
    }

    @Test
    void aServiceServingTheWrongOrTwoFunctionsFails() {
        Deployment d = broken();
        Deployment.env(container(d, "playground-heart-beat"), "PLAYGROUND_API_FUNCTIONS")
                .orElseThrow()
                .setValue("create_db");
        Deployment.env(container(d, "playground-reap-stale"), "PLAYGROUND_API_FUNCTIONS")
                .orElseThrow()
                .setValue("reap_stale,heart_beat");
        assertThat(ManifestChecks.knativeServices(d))
                .anyMatch(p ->
                        p.contains("playground-heart-beat serves create_db, which belongs to playground-create-db"))
                .anyMatch(p -> p.contains("create_db is served by both"))
                .anyMatch(p -> p.contains("playground-reap-stale must serve exactly one function"));
    }

    @Test
    void aServiceOutsideGatewayModeFails() {
        Deployment d = broken();
        Deployment.env(container(d, "playground-create-db"), "PLAYGROUND_IDENTITY_SOURCE")
                .orElseThrow()
                .setValue("tls");
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
        EnvVar ns = Deployment.env(container(d, "playground-create-db"), "PLAYGROUND_NAMESPACE")
                .orElseThrow();
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
        Map<String, String> annotations =
                new HashMap<>(heartBeat.getSpec().getTemplate().getMetadata().getAnnotations());
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
        d.get(ServiceAccount.class, "playground-heart-beat").getMetadata().setName("functions");
        assertThat(ManifestChecks.rbac(d))
                .anyMatch(p -> p.contains("runs as playground-heart-beat, which is not a ServiceAccount"));
    }

    @Test
    void aServiceAccountSharedByTwoFunctionsFails() {
        Deployment d = broken();
        d.get(Service.class, "playground-heart-beat")
                .getSpec()
                .getTemplate()
                .getSpec()
                .setServiceAccountName("playground-create-db");
        assertThat(ManifestChecks.knativeServices(d))
                .anyMatch(p ->
                        p.contains("playground-heart-beat must run as its own service account playground-heart-beat"));
    }

    // The reaper's own settings: scheduling left to the CronJob, the mesh trusted instead of a certificate

    @Test
    void theReaperLeavesSchedulingToTheCronJobAndTrustsTheMesh() {
        Container reaper = container(repository, "playground-reap-stale");
        assertThat(Deployment.env(reaper, ManifestChecks.REAPER_SCHEDULE_ENV).map(EnvVar::getValue))
                .contains("false");
        assertThat(Deployment.env(reaper, ManifestChecks.REAPER_TRIGGER_ENV).map(EnvVar::getValue))
                .contains("true");
        for (String publicService : List.of("playground-create-db", "playground-heart-beat")) {
            assertThat(Deployment.env(container(repository, publicService), ManifestChecks.REAPER_SCHEDULE_ENV))
                    .isEmpty();
            assertThat(Deployment.env(container(repository, publicService), ManifestChecks.REAPER_TRIGGER_ENV))
                    .isEmpty();
        }
    }

    @Test
    void theServicesEnvironmentReachesTheApplicationsProperties() {
        // Bound as Spring Boot binds the process environment (the source's name selects the env-name
        // mapping): a misspelt name would be ignored silently, and this test would see the default.
        Map<String, PlaygroundProperties> bound = new HashMap<>();
        for (Service s : repository.knativeServices()) {
            Map<String, Object> env = new HashMap<>();
            Deployment.container(s).getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
            Binder binder = new Binder(ConfigurationPropertySources.from(new SystemEnvironmentPropertySource(
                    StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, env)));
            bound.put(s.getMetadata().getName(), binder.bindOrCreate("playground", PlaygroundProperties.class));
        }
        PlaygroundProperties reaper = bound.get("playground-reap-stale");
        assertThat(reaper.api().functions()).containsExactly("reap_stale");
        assertThat(reaper.reaper().schedule()).isFalse();
        assertThat(reaper.api().reaperTrigger()).isTrue();
        assertThat(bound.values())
                .allSatisfy(p -> assertThat(p.identity().proofDirectory())
                        .as("gateway mode refuses to start without the proof")
                        .isNotNull());
        for (String publicService : List.of("playground-create-db", "playground-heart-beat")) {
            assertThat(bound.get(publicService).api().reaperTrigger())
                    .as(publicService)
                    .isFalse();
            assertThat(bound.get(publicService).api().functions())
                    .as(publicService)
                    .doesNotContain("reap_stale");
        }
        assertThat(bound.values()).allSatisfy(p -> assertThat(p.namespace()).isEqualTo(repository.knativeNamespace()));
    }

    @Test
    void aReaperThatSchedulesItselfOrAsksForACertificateFails() {
        Deployment d = broken();
        Container reaper = container(d, "playground-reap-stale");
        List<EnvVar> env = new ArrayList<>(reaper.getEnv());
        env.removeIf(e -> e.getName().equals(ManifestChecks.REAPER_SCHEDULE_ENV));
        reaper.setEnv(env);
        Deployment.env(reaper, ManifestChecks.REAPER_TRIGGER_ENV).orElseThrow().setValue("false");
        assertThat(ManifestChecks.reaperSettings(d))
                .anyMatch(p -> p.contains("playground-reap-stale must set PLAYGROUND_REAPER_SCHEDULE=\"false\""))
                .anyMatch(p -> p.contains("playground-reap-stale must set PLAYGROUND_API_REAPER_TRIGGER=\"true\""));
    }

    @Test
    void aPublicServiceOpenToTheMeshOrWithAScheduleSettingFails() {
        Deployment d = broken();
        container(d, "playground-heart-beat").getEnv().add(new EnvVar(ManifestChecks.REAPER_TRIGGER_ENV, "true", null));
        container(d, "playground-create-db")
                .getEnv()
                .add(new EnvVar(ManifestChecks.REAPER_SCHEDULE_ENV, "false", null));
        assertThat(ManifestChecks.reaperSettings(d))
                .anyMatch(p -> p.contains(
                        "playground-heart-beat is publicly routed and must not set PLAYGROUND_API_REAPER_TRIGGER"))
                .anyMatch(p -> p.contains(
                        "playground-create-db is publicly routed and must not set PLAYGROUND_REAPER_SCHEDULE"));
    }

    @Test
    void aReaperReachedByAPublicRouteMayNotBeOpenToTheMesh() {
        // Whatever it serves: a Service that a gateway route reaches counts as public.
        Deployment d = broken();
        d.get(VirtualService.class, "playground-public-api")
                .getSpec()
                .getHttp()
                .get(0)
                .getRewrite()
                .setAuthority("playground-reap-stale." + repository.knativeNamespace() + ".svc.cluster.local");
        assertThat(ManifestChecks.reaperSettings(d))
                .anyMatch(p -> p.contains(
                        "playground-reap-stale is publicly routed and must not set PLAYGROUND_API_REAPER_TRIGGER"));
    }

    @Test
    void aSettingGivenTwiceFails() {
        Deployment d = broken();
        container(d, "playground-reap-stale")
                .getEnv()
                .add(new EnvVar(ManifestChecks.REAPER_TRIGGER_ENV, "false", null));
        assertThat(ManifestChecks.reaperSettings(d))
                .anyMatch(p -> p.contains("sets PLAYGROUND_API_REAPER_TRIGGER 2 times"));
    }

    // Names and namespaces across files

    @Test
    void aSecondNamespaceAnywhereFails() {
        Deployment d = new Deployment(
                repository.knativeNamespace(), "playground", repository.copy().resources());
        assertThat(ManifestChecks.namespaces(d))
                .anyMatch(p -> p.contains("istio/kustomization.yaml namespace playground differs"));

        Deployment e = broken();
        Deployment.env(container(e, "playground-heart-beat"), "PLAYGROUND_NAMESPACE")
                .orElseThrow()
                .setValue("default");
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
        // Changing only kustomize's namespace: the routes' hosts, the reaper's principal and URL still say
        // sqlflow-playground.
        Deployment d =
                new Deployment("playground", "playground", repository.copy().resources());
        d.namespaceObjects().get(0).getMetadata().setName("playground");
        assertThat(ManifestChecks.namespaces(d))
                .anyMatch(
                        p -> p.contains(
                                "names cluster.local/ns/sqlflow-playground/sa/playground-reaper but playground-reaper lives in playground"));
        assertThat(ManifestChecks.routes(d))
                .anyMatch(p -> p.contains("must rewrite the authority to <service>.playground.svc.cluster.local"));
        assertThat(ManifestChecks.reaperCronJob(d))
                .anyMatch(p -> p.contains("must call http://playground-reap-stale.playground.svc.cluster.local"));
    }
}
