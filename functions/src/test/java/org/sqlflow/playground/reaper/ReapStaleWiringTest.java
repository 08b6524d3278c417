package org.sqlflow.playground.reaper;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.context.ApplicationContext;
import org.springframework.messaging.Message;
import org.springframework.messaging.support.MessageBuilder;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.PlaygroundApplication;
import org.sqlflow.playground.testing.TestGatewayProof;

/** The reap_stale bean and the self-schedule as the application wires them (local mode, no web server). */
class ReapStaleWiringTest {

    @Nested
    @SpringBootTest(
            classes = PlaygroundApplication.class,
            webEnvironment = SpringBootTest.WebEnvironment.NONE,
            properties = {
                "playground.local.enabled=true",
                "playground.identity.source=gateway",
                "playground.reaper.dry-run=true",
                "playground.reaper.min-interval=0s"
            })
    class Standalone {

        @DynamicPropertySource
        static void gatewayProof(DynamicPropertyRegistry registry) {
            TestGatewayProof.register(registry);
        }

        @Autowired
        FunctionCatalog functions;

        @Autowired
        ApplicationContext context;

        @Autowired
        ReaperSchedule schedule;

        @Autowired
        MeterRegistry meters;

        @Test
        void reapStaleIsServedUnderItsAliasAndTheConfiguredDryRunWins() {
            assertThat(context.getAliases("reapStale"))
                    .as("the path's last segment")
                    .contains("reap_stale");
            @SuppressWarnings("unchecked")
            Function<ReapRequest, ReapReport> reapStale = context.getBean("reap_stale", Function.class);
            ReapReport report = reapStale.apply(new ReapRequest(false, true));
            assertThat(report.dryRun())
                    .as("playground.reaper.dry-run=true forces a dry run")
                    .isTrue();
            assertThat(report.counts().examined()).isZero();
            assertThat(meters.find("playground.reaper.sweep").timer()).isNotNull();
        }

        @Test
        void theCanonicalJsonBodyGoesInAndSnakeCaseJsonComesOut() {
            Function<Message<byte[]>, Message<byte[]>> reapStale = functions.lookup("reap_stale", "application/json");
            Message<byte[]> reply =
                    reapStale.apply(MessageBuilder.withPayload("{\"dry_run\":true}".getBytes(StandardCharsets.UTF_8))
                            .setHeader("contentType", "application/json")
                            .build());
            String json = new String(reply.getPayload(), StandardCharsets.UTF_8);
            assertThat(json).contains("\"dry_run\":true", "\"orphans_removed\":0", "\"started_at\"");
        }

        @Test
        void theJarSchedulesItsOwnSweeps() {
            assertThat(schedule.isRunning()).isTrue();
        }
    }

    @Nested
    @SpringBootTest(
            classes = PlaygroundApplication.class,
            webEnvironment = SpringBootTest.WebEnvironment.NONE,
            properties = {
                "playground.local.enabled=true",
                "playground.identity.source=gateway",
                "playground.api.functions=create_db,heart_beat"
            })
    class WithoutTheReaperFunction {

        @DynamicPropertySource
        static void gatewayProof(DynamicPropertyRegistry registry) {
            TestGatewayProof.register(registry);
        }

        @Autowired
        ReaperSchedule schedule;

        @Test
        void anInstanceThatDoesNotServeReapStaleDoesNotSweep() {
            assertThat(schedule.isRunning()).isFalse();
        }
    }

    @Nested
    @SpringBootTest(
            classes = PlaygroundApplication.class,
            webEnvironment = SpringBootTest.WebEnvironment.NONE,
            properties = {
                "playground.local.enabled=true",
                "playground.identity.source=gateway",
                "playground.reaper.schedule=false"
            })
    class TriggeredByACronJob {

        @DynamicPropertySource
        static void gatewayProof(DynamicPropertyRegistry registry) {
            TestGatewayProof.register(registry);
        }

        @Autowired
        ReaperSchedule schedule;

        @Test
        void knativeTurnsTheScheduleOff() {
            assertThat(schedule.isRunning()).isFalse();
        }
    }
}
