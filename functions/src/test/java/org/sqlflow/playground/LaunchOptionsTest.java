package org.sqlflow.playground;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlflow.playground.certs.Pem;

/** The jar's command line, as Spring properties: the CRL flags and the local run's dev certificates. */
class LaunchOptionsTest {

    @TempDir
    Path tmp;

    @Test
    void theLocalRunAlwaysPassesItsDevCrlWhichIsEmptyAndSigned() throws Exception {
        Path dev = tmp.resolve("playground-dev-certs");
        List<String> args = LaunchOptions.parse(new String[] {"--local"}, dev).springArguments0();
        assertThat(args).contains("--playground.tls.crl=" + dev.resolve("ca.crl"));
        var crl = Pem.readCrl(dev.resolve("ca.crl"));
        crl.verify(Pem.readCertificate(dev.resolve("ca.crt")).getPublicKey());
        assertThat(crl.getRevokedCertificates()).isNull();
    }

    @Test
    void theOriginalFlagsTakeTheirValueAfterASpaceToo() throws Exception {
        assertThat(LaunchOptions.parse(new String[] {"--port", "50617", "--crl", "/etc/p/ca.crl"})
                        .springArguments0())
                .containsExactly("--server.port=50617", "--playground.tls.crl=/etc/p/ca.crl");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--port"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--port needs a value");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--port", "--local"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--port needs a value");
    }

    @Test
    void theCrlFlagsMapToTheirProperties() throws Exception {
        assertThat(LaunchOptions.parse(new String[] {"--crl=/etc/p/ca.crl"}).springArguments0())
                .containsExactly("--playground.tls.crl=/etc/p/ca.crl");
        assertThat(LaunchOptions.parse(new String[] {"--no-crl"}).springArguments0())
                .containsExactly("--playground.tls.no-crl=true");
    }
}
