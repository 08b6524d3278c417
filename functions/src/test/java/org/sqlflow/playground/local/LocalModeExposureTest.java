package org.sqlflow.playground.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sqlflow.playground.LaunchOptions;

/**
 * What a local run exposes to other users of the machine: its ports listen on loopback unless told otherwise,
 * and its embedded Kubernetes API answers only our own client, which holds the random bearer token.
 */
class LocalModeExposureTest {

    @Test
    void theEmbeddedApiServerAnswersOnlyRequestsWithItsToken() throws Exception {
        try (EmbeddedKubernetes api = new EmbeddedKubernetes()) {
            api.client()
                    .namespaces()
                    .resource(new NamespaceBuilder()
                            .withNewMetadata()
                            .withName("ns")
                            .endMetadata()
                            .build())
                    .create();
            api.client()
                    .secrets()
                    .inNamespace("ns")
                    .resource(new SecretBuilder()
                            .withNewMetadata()
                            .withName("db-alice")
                            .endMetadata()
                            .addToStringData("password", "s3cret")
                            .build())
                    .create();
            assertThat(api.client()
                            .secrets()
                            .inNamespace("ns")
                            .withName("db-alice")
                            .get())
                    .isNotNull();

            HttpClient http = HttpClient.newHttpClient();
            String secrets = api.url().replaceAll("/$", "") + "/api/v1/namespaces/ns/secrets";
            HttpResponse<String> anonymous = http.send(
                    HttpRequest.newBuilder(URI.create(secrets)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);
            assertThat(anonymous.body()).doesNotContain("s3cret").doesNotContain("db-alice");
            HttpResponse<String> guessed = http.send(
                    HttpRequest.newBuilder(URI.create(secrets))
                            .header("Authorization", "Bearer guessed")
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(guessed.statusCode()).isEqualTo(401);
        }
    }

    @Test
    void aGivenTokenIsTheOneRequired() throws Exception {
        try (EmbeddedKubernetes api = new EmbeddedKubernetes(new CountingDispatcher(), "chosen-token")) {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(api.url().replaceAll("/$", "") + "/api/v1/namespaces"))
                                    .header("Authorization", "Bearer chosen-token")
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aLocalRunListensOnLoopbackUnlessAnAddressIsGiven() throws Exception {
        // --ca_crt: certificates given, so parsing makes no dev certificates in the working directory.
        List<String> local = List.of(
                LaunchOptions.parse(new String[] {"--local", "--ca_crt=ca.crt"}).springArguments());
        assertThat(local).contains("--server.address=127.0.0.1", "--management.server.address=127.0.0.1");

        List<String> opened =
                List.of(LaunchOptions.parse(new String[] {"--local", "--ca_crt=ca.crt", "--server.address=0.0.0.0"})
                        .springArguments());
        assertThat(opened)
                .contains("--server.address=0.0.0.0", "--management.server.address=127.0.0.1")
                .doesNotContain("--server.address=127.0.0.1");

        List<String> standalone =
                List.of(LaunchOptions.parse(new String[] {"--ca_crt=ca.crt"}).springArguments());
        assertThat(standalone).noneMatch(a -> a.startsWith("--server.address"));
    }
}
