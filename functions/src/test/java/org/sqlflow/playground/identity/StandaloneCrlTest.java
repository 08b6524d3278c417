package org.sqlflow.playground.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.sqlflow.playground.LaunchOptions;
import org.sqlflow.playground.PlaygroundApplication;
import org.sqlflow.playground.certs.IssuedCertificate;
import org.sqlflow.playground.testing.Http;
import org.sqlflow.playground.testing.TestCertificates;

/**
 * The CRL rules of a standalone server, started as the jar starts it (the original playground server's flags
 * through LaunchOptions): without a CRL it refuses to start unless {@code --no-crl} says so; with the CRL flag an
 * empty CRL lets users in and a revocation written while it runs fails the next handshake.
 */
class StandaloneCrlTest {

    private static final TestCertificates CERTS = new TestCertificates("playground-crl");
    private static final IssuedCertificate ALICE = CERTS.ca().issueUser("alice", Duration.ofDays(1));

    static {
        CERTS.bundle("alice", ALICE);
        CERTS.bundle("bob", CERTS.ca().issueUser("bob", Duration.ofDays(1)));
    }

    /** The jar's command line: local mode (no cluster needed) with the maintainer's certificates. */
    private static String[] args(String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "--local",
                "--port=0",
                "--ca_crt=" + CERTS.file("ca.crt"),
                "--server_crt=" + CERTS.file("server.crt"),
                "--server_key=" + CERTS.file("server.key"),
                "--management.server.port=0",
                "--playground.local.database-start-delay=0s",
                "--playground.reaper.schedule=false",
                "--playground.pool.size=0",
                "--playground.kubernetes.request-timeout=30s",
                "--playground.kubernetes.write-timeout=30s"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    private static ConfigurableApplicationContext start(String... args) throws Exception {
        return new SpringApplication(PlaygroundApplication.class)
                .run(LaunchOptions.parse(args).springArguments());
    }

    private static Http as(ConfigurableApplicationContext server, String bundle) {
        return new Http(
                "https://localhost:" + server.getEnvironment().getProperty("local.server.port"),
                CERTS.clientContext(bundle));
    }

    private static int beat(Http http, String user) {
        return http.get("/api/heart_beat?user_id=" + user, Map.of()).status();
    }

    @Test
    void withoutACrlAndWithoutNoCrlTheServerRefusesToStart() {
        assertThatThrownBy(() -> start(args()).close())
                .hasStackTraceContaining("Refusing to start without a CRL")
                .hasStackTraceContaining("--crl=FILE")
                .hasStackTraceContaining("--no-crl");
    }

    @Test
    void bothTheCrlAndNoCrlAreRefused() {
        assertThatThrownBy(() -> start(args("--crl=" + CERTS.file("crl.pem"), "--no-crl"))
                        .close())
                .hasStackTraceContaining("give one of them");
    }

    @Test
    void noCrlStartsWithoutRevocation() throws Exception {
        try (ConfigurableApplicationContext server = start(args("--no-crl"))) {
            assertThat(server.getEnvironment().getProperty("playground.tls.no-crl"))
                    .isEqualTo("true");
            assertThat(beat(as(server, "alice"), "alice")).isEqualTo(200);
        }
    }

    @Test
    void anEmptyCrlLetsUsersInAndARevocationFailsTheNextHandshake() throws Exception {
        CERTS.writeCrl(Map.of(), BigInteger.TWO);
        try (ConfigurableApplicationContext server = start(args("--crl=" + CERTS.file("crl.pem")))) {
            assertThat(beat(as(server, "alice"), "alice")).isEqualTo(200);
            assertThat(beat(as(server, "bob"), "bob")).isEqualTo(200);

            CERTS.writeCrl(Map.of(ALICE.serial(), Instant.now()), BigInteger.valueOf(3));

            assertThatThrownBy(() -> beat(as(server, "alice"), "alice")).isInstanceOf(UncheckedIOException.class);
            assertThat(beat(as(server, "bob"), "bob")).isEqualTo(200);
        }
    }
}
