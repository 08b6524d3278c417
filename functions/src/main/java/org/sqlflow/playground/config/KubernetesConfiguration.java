package org.sqlflow.playground.config;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.sqlflow.playground.local.CountingDispatcher;
import org.sqlflow.playground.local.EmbeddedKubernetes;
import org.sqlflow.playground.local.StandInKubelet;
import org.sqlflow.playground.settings.PlaygroundProperties;

/**
 * The Kubernetes API the playground talks to: the real cluster (in-cluster service account or kubeconfig),
 * or, only with --local, an embedded one. There is no fallback from one to the other: a server that meant to
 * use a cluster and silently used an in-memory one would lose every database at restart.
 */
@Configuration(proxyBeanMethods = false)
public class KubernetesConfiguration {

    private static final Logger log = LoggerFactory.getLogger(KubernetesConfiguration.class);

    @Bean(destroyMethod = "close")
    @ConditionalOnProperty(name = "playground.local.enabled", havingValue = "false", matchIfMissing = true)
    KubernetesClient kubernetesClient(PlaygroundProperties props) {
        Config config = tuned(Config.autoConfigure(null), props);
        log.info("using the Kubernetes API at {} (namespace {})", config.getMasterUrl(), props.namespace());
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** The client settings production uses on top of {@code base}; public so the real-API tests use the same. */
    public static Config tuned(Config base, PlaygroundProperties props) {
        return new ConfigBuilder(base)
                .withConnectionTimeout((int) props.kubernetes().connectTimeout().toMillis())
                .withRequestTimeout((int) props.kubernetes().requestTimeout().toMillis())
                // fabric8 retries failed requests ten times with backoff by default; that would hold a create_db
                // past the client's 20 s. One retry, then a 503, and the next call resumes.
                .withRequestRetryBackoffLimit(1)
                .build();
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(name = "playground.local.enabled", havingValue = "true")
    static class LocalKubernetes {

        @Bean(destroyMethod = "close")
        EmbeddedKubernetes embeddedKubernetes(
                ObjectProvider<CountingDispatcher> dispatcher, MeterRegistry meters, PlaygroundProperties props) {
            // Tests may supply a dispatcher that injects API faults.
            EmbeddedKubernetes embedded = new EmbeddedKubernetes(
                    dispatcher.getIfAvailable(CountingDispatcher::new),
                    props.local().apiToken());
            // What the embedded API server answered, by verb and resource: the benchmark's "API calls per beat".
            embedded.requests()
                    .onNewKind((kind, count) -> FunctionCounter.builder(
                                    "playground.local.api.requests", count, LongAdder::sum)
                            .tag("request", kind)
                            .register(meters));
            log.warn(
                    "LOCAL MODE: an in-memory Kubernetes API at {} (bearer token required) stands in for a cluster; "
                            + "databases are simulated and vanish when the server stops",
                    embedded.url());
            return embedded;
        }

        @Bean(destroyMethod = "close")
        KubernetesClient kubernetesClient(EmbeddedKubernetes embedded, PlaygroundProperties props) {
            return new KubernetesClientBuilder()
                    .withConfig(tuned(embedded.client().getConfiguration(), props))
                    .build();
        }

        @Bean(destroyMethod = "close")
        StandInKubelet standInKubelet(KubernetesClient client, PlaygroundProperties props) {
            log.warn(
                    "LOCAL MODE: a stand-in kubelet marks each database ready {} after it is created",
                    props.local().databaseStartDelay());
            return new StandInKubelet(client, props.namespace(), props.local().databaseStartDelay()).start();
        }
    }
}
