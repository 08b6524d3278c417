package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.api.networking.v1alpha3.HTTPMatchRequest;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.HeadersHeaderOperations;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettingsTLSProtocol;
import io.fabric8.istio.api.api.networking.v1alpha3.ServerTLSSettingsTLSmode;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatch;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchExact;
import io.fabric8.istio.api.api.networking.v1alpha3.StringMatchPrefix;
import io.fabric8.istio.api.networking.v1.Gateway;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.knative.serving.v1.Service;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** From the internet to a function: the gateway, the two routes, the identity header, the timeouts. */
@RendersManifests
class PublicRoutingTest {

    private static Deployment repository;

    @BeforeAll
    static void load() {
        repository = Deployment.ofRepository();
    }

    private static Deployment broken() {
        return repository.copy();
    }

    private static VirtualService publicApi(Deployment d) {
        return d.get(VirtualService.class, "playground-public-api");
    }

    private static HTTPRoute route(Deployment d, String name) {
        return publicApi(d).getSpec().getHttp().stream()
                .filter(r -> name.equals(r.getName()))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void theRepositoryManifestsPassEveryEdgeCheck() {
        assertThat(ManifestChecks.gateways(repository)).isEmpty();
        assertThat(ManifestChecks.routes(repository)).isEmpty();
        assertThat(ManifestChecks.identityHeader(repository)).isEmpty();
        assertThat(ManifestChecks.timeouts(repository)).isEmpty();
    }

    @Test
    void exactlyThePublicFunctionsAreRouted() {
        assertThat(publicApi(repository).getSpec().getHttp())
                .extracting(
                        r -> ((StringMatchExact) r.getMatch().get(0).getUri().getMatchType()).getExact())
                .containsExactlyInAnyOrder("/api/create_db", "/api/heart_beat", "/api/databases");
    }

    // Gateway

    @Test
    void aGatewayWithoutClientCertificatesFails() {
        Deployment d = broken();
        d.get(Gateway.class, "playground-gateway")
                .getSpec()
                .getServers()
                .get(0)
                .getTls()
                .setMode(ServerTLSSettingsTLSmode.SIMPLE);
        assertThat(ManifestChecks.gateways(d)).anyMatch(p -> p.contains("must use tls.mode MUTUAL"));
        assertThat(ManifestChecks.identityHeader(d)).anyMatch(p -> p.contains("does not require client certificates"));
    }

    @Test
    void aGatewayWithoutCredentialOrWithOldTlsFails() {
        Deployment d = broken();
        var tls = d.get(Gateway.class, "playground-gateway")
                .getSpec()
                .getServers()
                .get(0)
                .getTls();
        tls.setCredentialName(null);
        tls.setMinProtocolVersion(ServerTLSSettingsTLSProtocol.TLSV1_1);
        assertThat(ManifestChecks.gateways(d))
                .anyMatch(p -> p.contains("tls.credentialName"))
                .anyMatch(p -> p.contains("minProtocolVersion"));
    }

    // Routes

    @Test
    void aRouteToTheReaperFails() {
        Deployment d = broken();
        HTTPRoute r = route(d, "create-db");
        r.getMatch().get(0).setUri(new StringMatch(new StringMatchExact("/api/reap_stale")));
        r.getRewrite().setAuthority("playground-reap-stale." + d.knativeNamespace() + ".svc.cluster.local");
        assertThat(ManifestChecks.routes(d))
                .anyMatch(p -> p.contains("the reaper must never be public"))
                .anyMatch(p -> p.contains("which serves the reaper"))
                .anyMatch(p -> p.contains("no route for the public function create_db"));
    }

    @Test
    void theListingIsRoutedLikeCreateDbToItsOwnServiceWithTheIdentityAndProof() {
        HTTPRoute r = route(repository, "databases");
        assertThat(r.getRewrite().getAuthority())
                .isEqualTo("playground-databases." + repository.knativeNamespace() + ".svc.cluster.local");
        assertThat(r.getHeaders().getRequest().getRemove())
                .contains(ManifestChecks.IDENTITY_HEADER, ManifestChecks.PROOF_HEADER);
        assertThat(r.getHeaders().getRequest().getSet())
                .containsEntry(ManifestChecks.IDENTITY_HEADER, ManifestChecks.PEER_SUBJECT);
        // Sent to create_db's Service, the listing would run under a Role that has none of its rights.
        Deployment d = broken();
        route(d, "databases")
                .getRewrite()
                .setAuthority("playground-create-db." + d.knativeNamespace() + ".svc.cluster.local");
        route(d, "databases").getMatch().get(0).setMethod(new StringMatch(new StringMatchExact("POST")));
        assertThat(ManifestChecks.routes(d))
                .anyMatch(p -> p.contains("sends /api/databases to playground-create-db"))
                .anyMatch(p -> p.contains("must match method GET exactly"));
    }

    @Test
    void aRouteToTheWrongServiceFails() {
        Deployment d = broken();
        route(d, "heart-beat")
                .getRewrite()
                .setAuthority("playground-create-db." + d.knativeNamespace() + ".svc.cluster.local");
        assertThat(ManifestChecks.routes(d)).anyMatch(p -> p.contains("sends /api/heart_beat to playground-create-db"));
    }

    @Test
    void aRouteToAServiceThatDoesNotExistFails() {
        Deployment d = broken();
        route(d, "heart-beat")
                .getRewrite()
                .setAuthority("playground-heartbeat." + d.knativeNamespace() + ".svc.cluster.local");
        assertThat(ManifestChecks.routes(d)).anyMatch(p -> p.contains("playground-heartbeat, which does not exist"));
    }

    @Test
    void aRouteThatBypassesTheLocalGatewayOrMatchesTooMuchFails() {
        Deployment d = broken();
        HTTPRoute r = route(d, "create-db");
        r.getRoute().get(0).getDestination().setHost("playground-create-db.sqlflow-playground.svc.cluster.local");
        route(d, "heart-beat").getMatch().get(0).setUri(new StringMatch(new StringMatchPrefix("/api/")));
        assertThat(ManifestChecks.routes(d))
                .anyMatch(p -> p.contains("must send to " + ManifestChecks.LOCAL_GATEWAY))
                .anyMatch(p -> p.contains("must match the path exactly"));
    }

    @Test
    void aRouteWithTheWrongMethodOrNoMatchFails() {
        Deployment d = broken();
        route(d, "create-db").getMatch().get(0).setMethod(new StringMatch(new StringMatchExact("GET")));
        route(d, "heart-beat").setMatch(new ArrayList<HTTPMatchRequest>());
        assertThat(ManifestChecks.routes(d))
                .anyMatch(p -> p.contains("must match method POST exactly, matches GET"))
                .anyMatch(p -> p.contains("must have exactly one match"));
    }

    // Identity header

    @Test
    void aRouteThatLetsAClientCopyThroughFails() {
        Deployment d = broken();
        route(d, "create-db").getHeaders().getRequest().setRemove(new ArrayList<>());
        assertThat(ManifestChecks.identityHeader(d)).anyMatch(p -> p.contains("must remove a client's"));
    }

    @Test
    void aRouteThatTakesTheIdentityFromElsewhereFails() {
        Deployment d = broken();
        HeadersHeaderOperations ops = route(d, "heart-beat").getHeaders().getRequest();
        Map<String, String> set = new HashMap<>(ops.getSet());
        set.put(ManifestChecks.IDENTITY_HEADER, "%REQ(x-playground-client-subject)%");
        ops.setSet(set);
        ops.setAdd(Map.of("X-Playground-Client-Subject", "%DOWNSTREAM_PEER_SUBJECT%"));
        assertThat(ManifestChecks.identityHeader(d))
                .anyMatch(p -> p.contains("must set x-playground-client-subject to %DOWNSTREAM_PEER_SUBJECT%"))
                .anyMatch(p -> p.contains("must not add"));
    }

    @Test
    void aRouteWithoutHeaderOperationsFails() {
        Deployment d = broken();
        route(d, "create-db").setHeaders(null);
        assertThat(ManifestChecks.identityHeader(d))
                .anyMatch(p -> p.contains("does not write x-playground-client-subject"));
    }

    // Timeouts

    @Test
    void theCreateDbTimeoutCoversTheDatabaseWaitWithMargin() {
        Service createDb = repository.serving("create_db").orElseThrow();
        assertThat(Duration.ofSeconds(createDb.getSpec().getTemplate().getSpec().getTimeoutSeconds()))
                .isGreaterThanOrEqualTo(ManifestChecks.CREATE_DB_WAIT.plus(ManifestChecks.TIMEOUT_MARGIN));
    }

    @Test
    void aCreateDbTimeoutWithoutMarginFails() {
        Deployment d = broken();
        d.get(Service.class, "playground-create-db")
                .getSpec()
                .getTemplate()
                .getSpec()
                .setTimeoutSeconds(20L);
        assertThat(ManifestChecks.timeouts(d))
                .anyMatch(p -> p.contains("must be at least 25"))
                .anyMatch(p -> p.contains(
                        "route create-db timeout 30s differs from playground-create-db's timeoutSeconds 20"));
    }

    @Test
    void aRouteTimeoutThatDiffersOrIsMissingFails() {
        Deployment d = broken();
        route(d, "heart-beat").setTimeout("60s");
        route(d, "create-db").setTimeout(null);
        assertThat(ManifestChecks.timeouts(d))
                .anyMatch(p -> p.contains("route heart-beat timeout 60s differs"))
                .anyMatch(p -> p.contains("route create-db must set a timeout"));
    }

    @Test
    void aLongHeartbeatTimeoutFails() {
        Deployment d = broken();
        d.get(Service.class, "playground-heart-beat")
                .getSpec()
                .getTemplate()
                .getSpec()
                .setTimeoutSeconds(60L);
        assertThat(ManifestChecks.timeouts(d))
                .anyMatch(p -> p.contains("heart_beat's Knative timeoutSeconds 60 must be short"));
    }

    @Test
    void istioDurationsParse() {
        assertThat(ManifestChecks.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(ManifestChecks.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(ManifestChecks.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(ManifestChecks.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(ManifestChecks.parseDuration("soon")).isNull();
        assertThat(ManifestChecks.parseDuration(null)).isNull();
    }
}
