package org.sqlflow.playground.api;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.Locale;
import java.util.function.Function;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.sqlflow.playground.cluster.DatabaseProvisioner;
import org.sqlflow.playground.cluster.HeartbeatRecorder;
import org.sqlflow.playground.cluster.KnownDatabases;
import org.sqlflow.playground.cluster.UserKey;
import org.sqlflow.playground.listing.DatabaseListing;
import org.sqlflow.playground.listing.ListingPage;
import org.sqlflow.playground.reaper.ReapReport;
import org.sqlflow.playground.reaper.ReapRequest;
import org.sqlflow.playground.reaper.Reaper;
import org.sqlflow.playground.reaper.SweepThrottle;

/**
 * The functions spring-cloud-function-web serves. The snake_case alias of each bean is the last segment of its
 * path ({@code /api/create_db}); the camelCase name is what {@code spring.cloud.function.definition} and the
 * Knative Services use.
 */
@Configuration(proxyBeanMethods = false)
public class PlaygroundFunctions {

    @Bean(name = {"createDb", "create_db"})
    Function<UserRequest, CreateDbReply> createDb(KnownDatabases provisioner, MeterRegistry meters) {
        return request -> {
            DatabaseProvisioner.Provisioned p = provisioner.createOrGet(UserKey.of(request.userId()));
            meters.counter("playground.databases.requested", "outcome", p.created() ? "created" : "existing")
                    .increment();
            return new CreateDbReply(p.dataSource(), p.userId(), format(p.expiresAt()));
        };
    }

    @Bean(name = {"heartBeat", "heart_beat"})
    Function<UserRequest, HeartBeatReply> heartBeat(HeartbeatRecorder recorder, MeterRegistry meters) {
        return request -> {
            HeartbeatRecorder.Beat beat = recorder.beat(UserKey.of(request.userId()));
            String state = beat.database().name().toLowerCase(Locale.ROOT);
            meters.counter("playground.heartbeats", "database", state).increment();
            return new HeartBeatReply(beat.userId(), state, format(beat.expiresAt()));
        };
    }

    /**
     * POST /api/reap_stale (admins, the CronJob): one sweep, unless the last one started less than
     * playground.reaper.min-interval ago; playground.reaper.dry-run forces a dry run. Per-user detail only when
     * the edge says so (an admin certificate).
     */
    @Bean(name = {"reapStale", "reap_stale"})
    Function<ReapRequest, ReapReport> reapStale(Reaper reaper, SweepThrottle throttle) {
        return request -> {
            throttle.admit();
            ReapReport report = reaper.sweep(request != null && request.dryRun());
            return request != null && request.detail() ? report : report.withoutDetail();
        };
    }

    /** GET /api/databases (admins): one page of the operators' view; the edge has checked the cursor and limit. */
    @Bean
    Function<ListingRequest, ListingPage> databases(DatabaseListing listing) {
        return request -> listing.page(request.after(), request.limit());
    }

    @Bean
    static BeanPostProcessor completedAnswers() {
        return new CompletedAnswers();
    }

    private static String format(Instant instant) {
        return instant == null ? null : instant.toString();
    }
}
