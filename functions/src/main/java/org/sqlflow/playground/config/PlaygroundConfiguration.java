package org.sqlflow.playground.config;

import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
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
import org.sqlflow.playground.certs.ClientCertificateTrustManager;
import org.sqlflow.playground.cluster.DatabaseDirectory;
import org.sqlflow.playground.cluster.DatabaseObjects;
import org.sqlflow.playground.cluster.DatabaseProvisioner;
import org.sqlflow.playground.cluster.DatabaseRoots;
import org.sqlflow.playground.cluster.ExpiryPolicy;
import org.sqlflow.playground.cluster.HeartbeatLedger;
import org.sqlflow.playground.cluster.HeartbeatRecorder;
import org.sqlflow.playground.cluster.KnownDatabases;
import org.sqlflow.playground.cluster.WarmPool;
import org.sqlflow.playground.identity.GatewayProof;
import org.sqlflow.playground.identity.IdentityResolver;
import org.sqlflow.playground.reaper.Reaper;
import org.sqlflow.playground.reaper.ReaperSchedule;
import org.sqlflow.playground.reaper.SweepThrottle;

/** Wires the playground's parts; the parts themselves know nothing of Spring. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(PlaygroundProperties.class)
public class PlaygroundConfiguration {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean
    DatabaseObjects databaseObjects(PlaygroundProperties props) {
        return new DatabaseObjects(props.database());
    }

    @Bean
    DatabaseRoots databaseRoots(KubernetesClient client, PlaygroundProperties props) {
        return new DatabaseRoots(client, props.namespace());
    }

    @Bean(initMethod = "start", destroyMethod = "close")
    DatabaseDirectory databaseDirectory(KubernetesClient client, PlaygroundProperties props) {
        return new DatabaseDirectory(client, props.namespace());
    }

    @Bean
    ExpiryPolicy expiryPolicy(PlaygroundProperties props) {
        return new ExpiryPolicy(props.heartbeat().ttl(), props.reaper().maxAge());
    }

    @Bean(destroyMethod = "shutdownNow")
    ExecutorService heartbeatWriters(PlaygroundProperties props) {
        AtomicInteger n = new AtomicInteger();
        return Executors.newFixedThreadPool(props.heartbeat().writerThreads(), r -> {
            Thread t = new Thread(r, "heartbeat-writer-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Bean
    HeartbeatLedger heartbeatLedger(KubernetesClient client, PlaygroundProperties props, Clock clock,
            ExecutorService heartbeatWriters) {
        return new HeartbeatLedger(client, props.namespace(), props.heartbeat().shards(),
                props.heartbeat().precision(), props.kubernetes().writeTimeout(), clock, heartbeatWriters);
    }

    /** An instance serving create_db tops the pool up when it starts; afterwards claims and the reaper do. */
    @Bean(destroyMethod = "close")
    WarmPool warmPool(KubernetesClient client, PlaygroundProperties props, DatabaseObjects objects,
            DatabaseDirectory directory, Clock clock, MeterRegistry meters) {
        WarmPool pool = new WarmPool(client, props.namespace(), objects, directory, clock,
                new WarmPool.Settings(props.pool().size(), props.pool().brokenAfter()),
                props.database().maxDatabases(), meters);
        if (props.api().functions().contains("create_db")) {
            pool.requestRefill();
        }
        return pool;
    }

    @Bean
    DatabaseProvisioner databaseProvisioner(KubernetesClient client, PlaygroundProperties props,
            DatabaseObjects objects, DatabaseRoots roots, DatabaseDirectory directory, HeartbeatLedger ledger,
            ExpiryPolicy expiry, WarmPool pool) {
        return new DatabaseProvisioner(client, props.namespace(), objects, roots, directory, ledger, expiry,
                props.database().readyWait(), props.database().retryAfter(), props.database().maxDatabases(), pool);
    }

    @Bean
    KnownDatabases knownDatabases(DatabaseProvisioner provisioner, DatabaseDirectory directory, HeartbeatLedger ledger,
            ExpiryPolicy expiry, Clock clock) {
        return new KnownDatabases(provisioner, directory, ledger, expiry, clock);
    }

    @Bean
    HeartbeatRecorder heartbeatRecorder(DatabaseRoots roots, DatabaseDirectory directory, HeartbeatLedger ledger,
            ExpiryPolicy expiry, Clock clock) {
        return new HeartbeatRecorder(roots, directory, ledger, expiry, clock);
    }

    @Bean
    IdentityResolver identityResolver(PlaygroundProperties props, Environment env,
            ObjectProvider<ClientCertificateTrustManager> trust, Clock clock) {
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
    SweepThrottle sweepThrottle(PlaygroundProperties props, Clock clock) {
        return new SweepThrottle(props.reaper().minInterval(), clock);
    }

    @Bean
    InFlightLimits inFlightLimits(PlaygroundProperties props, MeterRegistry meters) {
        PlaygroundProperties.Limits l = props.api().limits();
        InFlightLimits limits = new InFlightLimits(
                new InFlightLimits.Settings(l.createDbPerUser(), l.createDbPerCaller(), l.createDbInFlight()),
                props.database().retryAfter());
        meters.gauge("playground.api.create_db.in_flight", limits, InFlightLimits::inFlight);
        return limits;
    }

    @Bean
    FilterRegistrationBean<ApiEdgeFilter> apiEdgeFilter(PlaygroundProperties props, IdentityResolver identities,
            FunctionCatalog functions, InFlightLimits limits, MeterRegistry meters) {
        PlaygroundProperties.Api api = props.api();
        ApiEdgeFilter filter = new ApiEdgeFilter(api.functions(), functions,
                new ApiInput(api.maxBodyBytes(), identities, api.reaperTrigger()), limits,
                props.database().retryAfter(), meters);
        FilterRegistrationBean<ApiEdgeFilter> registration = new FilterRegistrationBean<>(filter);
        registration.addUrlPatterns("/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }

    @Bean(destroyMethod = "close")
    Reaper reaper(KubernetesClient client, PlaygroundProperties props, DatabaseRoots roots, HeartbeatLedger ledger,
            ExpiryPolicy expiry, WarmPool pool, Clock clock, MeterRegistry meters) {
        PlaygroundProperties.Reaper r = props.reaper();
        return new Reaper(client, roots, ledger, expiry, pool, clock,
                new Reaper.Settings(r.dryRun(), r.parallelism(), r.pageSize(), props.database().readyWait(),
                        !props.local().enabled()), meters);
    }

    /** Sweeps on its own only where this instance serves reap_stale and no CronJob does it (Knative). */
    @Bean(initMethod = "start", destroyMethod = "close")
    ReaperSchedule reaperSchedule(Reaper reaper, PlaygroundProperties props) {
        boolean enabled = props.reaper().schedule() && props.api().functions().contains("reap_stale");
        return new ReaperSchedule(() -> reaper.sweep(false), props.reaper().interval(), enabled);
    }
}
