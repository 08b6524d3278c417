package org.sqlflow.playground.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.sqlflow.playground.PlaygroundApplication;
import org.sqlflow.playground.testing.TestCertificates;
import org.sqlflow.playground.testing.TestGatewayProof;

/**
 * The whole application refuses to start where gateway identity would be believed without the gateway's proof,
 * or where it would be believed on a server that terminates TLS itself. Each case starts the real application
 * (local mode, no web server) and reads the reason it gives.
 */
class GatewayStartupTest {

    private static final TestCertificates CERTS = new TestCertificates("gateway-startup");

    private static ConfigurableApplicationContext start(String... properties) {
        List<String> all = new ArrayList<>(List.of(
                "playground.local.enabled=true",
                "playground.reaper.schedule=false",
                "playground.pool.size=0",
                "spring.main.banner-mode=off"));
        all.addAll(List.of(properties));
        return new SpringApplicationBuilder(PlaygroundApplication.class)
                .web(WebApplicationType.NONE)
                .properties(all.toArray(String[]::new))
                .run();
    }

    private static String reasons(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getMessage()).append('\n');
        }
        return sb.toString();
    }

    private static void assertRefused(String reason, String... properties) {
        assertThatThrownBy(() -> start(properties).close())
                .satisfies(t -> assertThat(reasons(t)).contains(reason));
    }

    @Test
    void gatewayModeWithoutTheProofRefusesToStart() {
        assertRefused("playground.identity.proof-directory", "playground.identity.source=gateway");
    }

    @Test
    void aProofDirectoryWithoutAUsableValueRefusesToStart() throws IOException {
        Path empty = Files.createTempDirectory("proof-empty");
        assertRefused(
                "current is missing",
                "playground.identity.source=gateway",
                "playground.identity.proof-directory=" + empty);
        Path placeholder = TestGatewayProof.newDirectory("proof-placeholder", GatewayProof.PLACEHOLDER, null);
        assertRefused(
                "placeholder",
                "playground.identity.source=gateway",
                "playground.identity.proof-directory=" + placeholder);
        Path shortValue = TestGatewayProof.newDirectory("proof-short", "guessable", null);
        assertRefused(
                "fewer than 32 characters",
                "playground.identity.source=gateway",
                "playground.identity.proof-directory=" + shortValue);
        Path badNext = TestGatewayProof.newDirectory("proof-bad-next", TestGatewayProof.VALUE, "x");
        assertRefused(
                "next holds fewer",
                "playground.identity.source=gateway",
                "playground.identity.proof-directory=" + badNext);
    }

    @Test
    void gatewayIdentityOnAServerWithItsOwnTlsRefusesToStart() {
        // Any certificate holder could add the identity header: gateway identity is for the Istio gateway only.
        assertRefused(
                "gateway identity is only for the Istio ingress gateway",
                "playground.identity.source=gateway",
                "playground.identity.proof-directory=" + TestGatewayProof.directory(),
                "server.ssl.trust-certificate=" + CERTS.file("ca.crt"),
                "server.ssl.certificate=" + CERTS.file("server.crt"),
                "server.ssl.certificate-private-key=" + CERTS.file("server.key"),
                "server.ssl.client-auth=need");
    }

    @Test
    void theReaperTriggerOnlyOnAReaperOnlyGatewayInstance() {
        assertRefused(
                "reaper-trigger=true needs playground.api.functions=reap_stale",
                "playground.identity.source=gateway",
                "playground.identity.proof-directory=" + TestGatewayProof.directory(),
                "playground.api.reaper-trigger=true");
        assertRefused(
                "reaper's Knative Service in gateway mode only",
                "playground.api.functions=reap_stale",
                "playground.api.reaper-trigger=true",
                "server.ssl.trust-certificate=" + CERTS.file("ca.crt"),
                "server.ssl.certificate=" + CERTS.file("server.crt"),
                "server.ssl.certificate-private-key=" + CERTS.file("server.key"),
                "server.ssl.client-auth=need");
    }

    @Test
    void withAProofGatewayModeStarts() {
        try (ConfigurableApplicationContext ctx = start(
                "playground.identity.source=gateway",
                "playground.identity.proof-directory=" + TestGatewayProof.directory())) {
            assertThat(ctx.getBean(IdentityResolver.class).gatewayMode()).isTrue();
        }
    }
}
