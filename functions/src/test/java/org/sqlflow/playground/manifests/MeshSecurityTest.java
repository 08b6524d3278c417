package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.api.security.v1beta1.PeerAuthenticationMutualTLS;
import io.fabric8.istio.api.api.security.v1beta1.PeerAuthenticationMutualTLSMode;
import io.fabric8.istio.api.api.security.v1beta1.Rule;
import io.fabric8.istio.api.api.security.v1beta1.RuleFrom;
import io.fabric8.istio.api.api.security.v1beta1.Source;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.istio.api.security.v1.PeerAuthentication;
import io.fabric8.istio.api.security.v1.PeerAuthenticationBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.testing.PlaygroundParts;

/** Who may talk to whom inside the cluster: AuthorizationPolicies, mutual TLS, the database NetworkPolicy, RBAC. */
@RendersManifests
class MeshSecurityTest {

    private static Deployment repository;
    /** The labels of a database pod exactly as the playground makes it. */
    private static final Map<String, String> DATABASE_POD = new DatabaseObjects(
                    PlaygroundParts.database(Duration.ofSeconds(15), 10))
            .pooled("pool-abc12")
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels();

    @BeforeAll
    static void load() {
        repository = Deployment.ofRepository();
    }

    private static Deployment broken() {
        return repository.copy();
    }

    /** The repository's deployment plus one more object. */
    private static Deployment with(KubernetesResource extra) {
        Deployment d = broken();
        List<KubernetesResource> all = new ArrayList<>(d.resources());
        all.add(extra);
        return new Deployment(d.knativeNamespace(), d.istioNamespace(), all);
    }

    @Test
    void theRepositoryManifestsPassEveryMeshCheck() {
        assertThat(ManifestChecks.authorization(repository)).isEmpty();
        assertThat(ManifestChecks.peerAuthentication(repository, DATABASE_POD)).isEmpty();
        assertThat(ManifestChecks.networkPolicy(repository)).isEmpty();
        assertThat(ManifestChecks.rbac(repository)).isEmpty();
    }

    // AuthorizationPolicies

    @Test
    void theReaperAdmittingTheIngressGatewayFails() {
        Deployment d = broken();
        Rule rule = d.get(AuthorizationPolicy.class, "playground-reap-stale")
                .getSpec()
                .getRules()
                .get(0);
        List<String> principals =
                new ArrayList<>(rule.getFrom().get(0).getSource().getPrincipals());
        principals.add(ManifestChecks.INGRESS_PRINCIPAL);
        rule.getFrom().get(0).getSource().setPrincipals(principals);
        assertThat(ManifestChecks.authorization(d))
                .anyMatch(p -> p.contains(
                        "admits " + ManifestChecks.INGRESS_PRINCIPAL + "; playground-reap-stale expects only"));
    }

    @Test
    void aPublicFunctionAdmittingTheReaperOrAnyoneFails() {
        Deployment d = broken();
        AuthorizationPolicy p = d.get(AuthorizationPolicy.class, "playground-create-db");
        p.getSpec()
                .getRules()
                .get(0)
                .getFrom()
                .get(0)
                .getSource()
                .setPrincipals(List.of("cluster.local/ns/sqlflow-playground/sa/playground-reaper"));
        List<Rule> rules = new ArrayList<>(p.getSpec().getRules());
        rules.add(new Rule(new ArrayList<RuleFrom>(), new ArrayList<>(), new ArrayList<>()));
        p.getSpec().setRules(rules);
        assertThat(ManifestChecks.authorization(d))
                .anyMatch(m -> m.contains("playground-create-db expects only " + ManifestChecks.INGRESS_PRINCIPAL))
                .anyMatch(m -> m.contains("rule without `from`"))
                .anyMatch(m -> m.contains("never admits"));
    }

    @Test
    void theListingAdmitsOnlyTheGatewaysGetOfItsOwnPath() {
        AuthorizationPolicy p = repository.get(AuthorizationPolicy.class, "playground-databases");
        assertThat(p.getSpec().getRules().get(0).getTo().get(0).getOperation().getPaths())
                .containsExactly("/api/databases");
        Deployment d = broken();
        d.get(AuthorizationPolicy.class, "playground-databases")
                .getSpec()
                .getRules()
                .get(0)
                .getTo()
                .get(0)
                .getOperation()
                .setPaths(List.of("/api/create_db"));
        assertThat(ManifestChecks.authorization(d)).anyMatch(m -> m.contains("must admit path /api/databases only"));
    }

    @Test
    void aPrincipalRuleWithoutMethodAndPathFails() {
        Deployment d = broken();
        Rule rule = d.get(AuthorizationPolicy.class, "playground-heart-beat")
                .getSpec()
                .getRules()
                .get(0);
        rule.getTo().get(0).getOperation().setMethods(List.of("GET", "POST"));
        rule.getTo().get(0).getOperation().setPaths(List.of("/api/*"));
        assertThat(ManifestChecks.authorization(d))
                .anyMatch(m -> m.contains("must admit method GET only"))
                .anyMatch(m -> m.contains("must admit path /api/heart_beat only"));
    }

    @Test
    void admittingAnotherNamespaceFails() {
        Deployment d = broken();
        Source knative = d.get(AuthorizationPolicy.class, "playground-heart-beat")
                .getSpec()
                .getRules()
                .get(1)
                .getFrom()
                .get(0)
                .getSource();
        knative.setNamespaces(List.of("knative-serving", "default"));
        assertThat(ManifestChecks.authorization(d)).anyMatch(m -> m.contains("admits namespace default"));
    }

    @Test
    void aServiceWithoutItsPolicyFails() {
        Deployment d = broken();
        d.get(AuthorizationPolicy.class, "playground-reap-stale")
                .getSpec()
                .getSelector()
                .setMatchLabels(Map.of("serving.knative.dev/service", "something-else"));
        assertThat(ManifestChecks.authorization(d))
                .anyMatch(m -> m.contains("playground-reap-stale must have exactly one AuthorizationPolicy"));
    }

    // PeerAuthentication

    @Test
    void aPermissiveNamespaceFails() {
        Deployment d = broken();
        d.get(PeerAuthentication.class, "default")
                .getSpec()
                .getMtls()
                .setMode(PeerAuthenticationMutualTLSMode.PERMISSIVE);
        assertThat(ManifestChecks.peerAuthentication(d, DATABASE_POD))
                .anyMatch(m -> m.contains("must be STRICT"))
                .anyMatch(m -> m.contains("no namespace-wide PeerAuthentication"));
    }

    @Test
    void theDatabasePodsAreOutOfTheMeshAndNoPolicyPretendsOtherwise() {
        assertThat(DATABASE_POD).containsEntry("sidecar.istio.io/inject", "false");
        assertThat(repository.peerAuthentications())
                .noneSatisfy(pa -> assertThat(pa.getSpec().getSelector()).isNotNull());
        // The earlier design: a PERMISSIVE exception on 3306 for injected database pods.
        PeerAuthentication db = new PeerAuthenticationBuilder()
                .withNewMetadata()
                .withName("playground-databases")
                .endMetadata()
                .withNewSpec()
                .withNewSelector()
                .withMatchLabels(Map.of(
                        "app.kubernetes.io/component",
                        "database",
                        "app.kubernetes.io/managed-by",
                        "sqlflow-playground"))
                .endSelector()
                .withNewMtls()
                .withMode(PeerAuthenticationMutualTLSMode.STRICT)
                .endMtls()
                .withPortLevelMtls(
                        Map.of("3306", new PeerAuthenticationMutualTLS(PeerAuthenticationMutualTLSMode.PERMISSIVE)))
                .endSpec()
                .build();
        Deployment d = with(db);
        assertThat(ManifestChecks.peerAuthentication(d, DATABASE_POD))
                .anyMatch(m -> m.contains("selects the database pods, which have no sidecar"))
                .anyMatch(m -> m.contains("has port exceptions [3306]"));
        // Database pods that would get a sidecar.
        Map<String, String> injected = new HashMap<>(DATABASE_POD);
        injected.remove("sidecar.istio.io/inject");
        assertThat(ManifestChecks.peerAuthentication(repository, injected))
                .anyMatch(m -> m.contains("must carry the label sidecar.istio.io/inject"));
    }

    @Test
    void relaxingAnyOtherPodFails() {
        Deployment d = with(new PeerAuthenticationBuilder()
                .withNewMetadata()
                .withName("loose")
                .endMetadata()
                .withNewSpec()
                .withNewSelector()
                .withMatchLabels(Map.of("serving.knative.dev/service", "playground-create-db"))
                .endSelector()
                .withNewMtls()
                .withMode(PeerAuthenticationMutualTLSMode.PERMISSIVE)
                .endMtls()
                .endSpec()
                .build());
        assertThat(ManifestChecks.peerAuthentication(d, DATABASE_POD))
                .anyMatch(m -> m.contains("PeerAuthentication loose relaxes mutual TLS"));
    }

    // NetworkPolicy

    @Test
    void theDatabasePolicyAdmitsOnlyTcp3306FromSelectedPods() {
        NetworkPolicy np = repository.get(NetworkPolicy.class, "playground-databases");
        assertThat(np.getSpec().getIngress()).singleElement().satisfies(rule -> {
            assertThat(rule.getPorts())
                    .singleElement()
                    .satisfies(port -> assertThat(port.getPort().getIntVal()).isEqualTo(3306));
            assertThat(rule.getFrom())
                    .singleElement()
                    .satisfies(peer ->
                            assertThat(peer.getPodSelector().getMatchLabels()).containsEntry("app", "sqlflow-server"));
        });
    }

    @Test
    void anOpenOrWiderDatabasePolicyFails() {
        Deployment d = broken();
        NetworkPolicy np = d.get(NetworkPolicy.class, "playground-databases");
        np.getSpec().getIngress().get(0).getPorts().get(0).setPort(new IntOrString(3307));
        List<NetworkPolicyPeer> from =
                new ArrayList<>(np.getSpec().getIngress().get(0).getFrom());
        NetworkPolicyPeer everyone = new NetworkPolicyPeer();
        everyone.setPodSelector(new LabelSelector());
        from.add(everyone);
        np.getSpec().getIngress().get(0).setFrom(from);
        assertThat(ManifestChecks.networkPolicy(d))
                .anyMatch(m -> m.contains("must admit exactly TCP 3306"))
                .anyMatch(m -> m.contains("non-empty podSelector"));
        Deployment e = broken();
        e.get(NetworkPolicy.class, "playground-databases")
                .getSpec()
                .getIngress()
                .get(0)
                .setFrom(new ArrayList<>());
        assertThat(ManifestChecks.networkPolicy(e)).anyMatch(m -> m.contains("admits every source"));
    }

    @Test
    void aDatabasePolicyWithoutEgressOrWithWiderEgressFails() {
        Deployment d = broken();
        d.get(NetworkPolicy.class, "playground-databases")
                .getSpec()
                .setPolicyTypes(new ArrayList<>(List.of("Ingress")));
        assertThat(ManifestChecks.networkPolicy(d)).anyMatch(m -> m.contains("must list policyTypes Egress"));
        Deployment e = broken();
        var egress = e.get(NetworkPolicy.class, "playground-databases")
                .getSpec()
                .getEgress()
                .get(0);
        egress.getPorts().get(0).setPort(new IntOrString(443));
        egress.getTo().get(0).getPodSelector().getMatchLabels().put("k8s-app", "anything");
        assertThat(ManifestChecks.networkPolicy(e))
                .anyMatch(m -> m.contains("egress to a port other than 53"))
                .anyMatch(m -> m.contains("something other than the cluster DNS pods"));
        Deployment f = broken();
        f.get(NetworkPolicy.class, "playground-databases")
                .getSpec()
                .getEgress()
                .get(0)
                .setTo(new ArrayList<>());
        assertThat(ManifestChecks.networkPolicy(f)).anyMatch(m -> m.contains("egress rule to every destination"));
    }

    // RBAC

    @Test
    void wildcardsAndSecretListingFail() {
        Deployment d = broken();
        Role role = d.get(Role.class, "playground-heart-beat");
        List<PolicyRule> rules = new ArrayList<>(role.getRules());
        PolicyRule wide = new PolicyRule();
        wide.setApiGroups(List.of(""));
        wide.setResources(List.of("secrets"));
        wide.setVerbs(List.of("list", "*"));
        rules.add(wide);
        role.setRules(rules);
        assertThat(ManifestChecks.rbac(d))
                .anyMatch(m -> m.contains("wildcard"))
                .anyMatch(m -> m.contains("list or watch every Secret"));
    }

    @Test
    void bindingTheReaperOrAStrangerFails() {
        Deployment d = broken();
        RoleBinding rb = d.get(RoleBinding.class, "playground-reap-stale");
        List<Subject> subjects = new ArrayList<>(rb.getSubjects());
        Subject reaper = new Subject();
        reaper.setKind("ServiceAccount");
        reaper.setName("playground-reaper");
        subjects.add(reaper);
        Subject stranger = new Subject();
        stranger.setKind("ServiceAccount");
        stranger.setName("default");
        subjects.add(stranger);
        rb.setSubjects(subjects);
        assertThat(ManifestChecks.rbac(d))
                .anyMatch(m -> m.contains("gives the reaper CronJob Kubernetes permissions"))
                .anyMatch(m -> m.contains("binds ServiceAccount default"));
    }
}
