package org.sqlflow.playground.config;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.sqlflow.playground.api.ApiEdgeFilter;
import org.sqlflow.playground.api.ApiInput;
import org.sqlflow.playground.api.InFlightLimits;
import org.sqlflow.playground.assembly.Playground;
import org.sqlflow.playground.certs.ClientCertificateTrustManager;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.HeartbeatRecorder;
import org.sqlflow.playground.cluster.KnownDatabases;
import org.sqlflow.playground.identity.GatewayProof;
import org.sqlflow.playground.identity.IdentityResolver;
import org.sqlflow.playground.listing.DatabaseListing;
import org.sqlflow.playground.reaper.Reaper;
import org.sqlflow.playground.reaper.ReaperSchedule;
import org.sqlflow.playground.reaper.SweepThrottle;
import org.sqlflow.playground.settings.PlaygroundProperties;

/** Wires the playground's parts; the parts themselves know nothing of Spring. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(PlaygroundProperties.class)
public class PlaygroundConfiguration {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    /** The parts, built in one place; the beans below only hand them to Spring. */
    @Bean(initMethod = "start", destroyMethod = "close")
    Playground playground(KubernetesClient client, PlaygroundProperties props, Clock clock, MeterRegistry meters) {
        return new Playground(client, props, !props.local().enabled(), clock, meters);
    }

    @Bean
    HeartbeatLedger heartbeatLedger(Playground playground) {
        return playground.ledger();
    }

    @Bean
    KnownDatabases knownDatabases(Playground playground) {
        return playground.knownDatabases();
    }

    @Bean
    HeartbeatRecorder heartbeatRecorder(Playground playground) {
        return playground.recorder();
    }

    @Bean
    Reaper reaper(Playground playground) {
        return playground.reaper();
    }

    @Bean
    DatabaseListing databaseListing(Playground playground) {
        return playground.listing();
    }

    @Bean
    SweepThrottle sweepThrottle(Playground playground) {
        return playground.sweepThrottle();
    }

    @Bean
    IdentityResolver identityResolver(
            PlaygroundProperties props,
            Environment env,
            ObjectProvider<ClientCertificateTrustManager> trust,
            Clock clock) {
        TransportGuard.check(props, env);
        PlaygroundProperties.Identity identity = props.identity();
        // Gateway mode believes a header; only the proof says the public gateway (or, on the reaper's instance,
        // its CronJob) wrote it. Without one configured the instance would believe any pod of the cluster.
        GatewayProof proof = identity.source() == PlaygroundProperties.IdentitySource.GATEWAY
                ? GatewayProof.load(identity.proofDirectory(), identity.proofRefresh(), clock)
                : null;
        return new IdentityResolver(identity, trust.getIfAvailable(), proof);
    }

    @Bean
    InFlightLimits inFlightLimits(PlaygroundProperties props, MeterRegistry meters) {
        PlaygroundProperties.Limits l = props.api().limits();
        InFlightLimits limits = new InFlightLimits(
                new InFlightLimits.Settings(l.createDbPerUser(), l.createDbPerCaller(), l.createDbInFlight()));
        meters.gauge("playground.api.create_db.in_flight", limits, InFlightLimits::inFlight);
        return limits;
    }

    @Bean
    FilterRegistrationBean<ApiEdgeFilter> apiEdgeFilter(
            PlaygroundProperties props,
            IdentityResolver identities,
            FunctionCatalog functions,
            InFlightLimits limits,
            MeterRegistry meters) {
        PlaygroundProperties.Api api = props.api();
        ApiEdgeFilter filter = new ApiEdgeFilter(
                api.functions(),
                functions,
                new ApiInput(api.maxBodyBytes(), identities, api.reaperTrigger()),
                limits,
                props.database().retryAfter(),
                meters);
        FilterRegistrationBean<ApiEdgeFilter> registration = new FilterRegistrationBean<>(filter);
        registration.addUrlPatterns("/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }

    /** Sweeps on its own only where this instance serves reap_stale and no CronJob does it (Knative). */
    @Bean(initMethod = "start", destroyMethod = "close")
    ReaperSchedule reaperSchedule(Reaper reaper, PlaygroundProperties props) {
        boolean enabled = props.reaper().schedule() && props.api().functions().contains("reap_stale");
        return new ReaperSchedule(() -> reaper.sweep(false), props.reaper().interval(), enabled);
    }
}
