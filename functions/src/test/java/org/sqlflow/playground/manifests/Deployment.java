package org.sqlflow.playground.manifests;

import io.fabric8.istio.api.networking.v1.Gateway;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.istio.api.security.v1.PeerAuthentication;
import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The whole deployment (knative/ and istio/ together, each as kustomize renders it) as typed objects:
 * what the cross-checks in {@link ManifestChecks} read. {@link #copy()} gives an independent deep copy
 * that a test may break on purpose.
 */
record Deployment(String knativeNamespace, String istioNamespace, List<KubernetesResource> resources) {

    static Deployment ofRepository() {
        return of(ManifestFolder.ofRepository("knative"), ManifestFolder.ofRepository("istio"));
    }

    static Deployment of(ManifestFolder knative, ManifestFolder istio) {
        List<KubernetesResource> all = Stream.concat(knative.docs().stream(), istio.docs().stream())
                .map(ManifestFolder.Doc::resource)
                .toList();
        return new Deployment(knative.namespace(), istio.namespace(), all);
    }

    /** A deep copy whose objects may be changed without touching this one. */
    Deployment copy() {
        return new Deployment(
                knativeNamespace,
                istioNamespace,
                resources.stream().map(ManifestFolder.SERIALIZATION::clone).toList());
    }

    <T extends KubernetesResource> List<T> all(Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> Optional<T> named(Class<T> type, String name) {
        return all(type).stream()
                .filter(r -> name.equals(r.getMetadata().getName()))
                .findFirst();
    }

    <T extends HasMetadata> T get(Class<T> type, String name) {
        return named(type, name).orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " named " + name));
    }

    List<Service> knativeServices() {
        return all(Service.class);
    }

    List<Gateway> gateways() {
        return all(Gateway.class);
    }

    List<VirtualService> virtualServices() {
        return all(VirtualService.class);
    }

    List<AuthorizationPolicy> authorizationPolicies() {
        return all(AuthorizationPolicy.class);
    }

    List<PeerAuthentication> peerAuthentications() {
        return all(PeerAuthentication.class);
    }

    List<CronJob> cronJobs() {
        return all(CronJob.class);
    }

    List<ServiceAccount> serviceAccounts() {
        return all(ServiceAccount.class);
    }

    List<Role> roles() {
        return all(Role.class);
    }

    List<RoleBinding> roleBindings() {
        return all(RoleBinding.class);
    }

    List<NetworkPolicy> networkPolicies() {
        return all(NetworkPolicy.class);
    }

    List<Namespace> namespaceObjects() {
        return all(Namespace.class);
    }

    /** The Knative Service whose container serves {@code function} (env PLAYGROUND_API_FUNCTIONS). */
    Optional<Service> serving(String function) {
        return knativeServices().stream()
                .filter(s -> functionsOf(s).contains(function))
                .findFirst();
    }

    /** The functions a Knative Service serves, from its container's PLAYGROUND_API_FUNCTIONS. */
    static List<String> functionsOf(Service service) {
        return env(container(service), "PLAYGROUND_API_FUNCTIONS")
                .map(EnvVar::getValue)
                .map(v -> Arrays.stream(v.split(","))
                        .map(String::trim)
                        .filter(f -> !f.isEmpty())
                        .toList())
                .orElse(List.of());
    }

    static Container container(Service service) {
        List<Container> containers = service.getSpec().getTemplate().getSpec().getContainers();
        return containers.isEmpty() ? new Container() : containers.get(0);
    }

    static Optional<EnvVar> env(Container container, String name) {
        return container.getEnv().stream().filter(e -> name.equals(e.getName())).findFirst();
    }
}
