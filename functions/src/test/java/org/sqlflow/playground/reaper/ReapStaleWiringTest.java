package org.sqlflow.playground.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.testing.TestGatewayProof;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.messaging.Message;
import org.springframework.messaging.support.MessageBuilder;
import org.sqlflow.playground.PlaygroundApplication;

/** The reap_stale bean and the self-schedule as the application wires them (local mode, no web server). */
class ReapStaleWiringTest {

    @Nested
    @SpringBootTest(classes = PlaygroundApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
            properties = {"playground.local.enabled=true", "playground.identity.source=gateway", "playground.reaper.dry-run=true",
                    "playground.reaper.min-interval=0s"})
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
            assertTrue(List.of(context.getAliases("reapStale")).contains("reap_stale"), "the path's last segment");
            @SuppressWarnings("unchecked")
            Function<ReapRequest, ReapReport> reapStale = context.getBean("reap_stale", Function.class);
            ReapReport report = reapStale.apply(new ReapRequest(false, true));
            assertTrue(report.dryRun(), "playground.reaper.dry-run=true forces a dry run");
            assertEquals(0, report.counts().examined());
            assertNotNull(meters.find("playground.reaper.sweep").timer());
        }

        @Test
        void theCanonicalJsonBodyGoesInAndSnakeCaseJsonComesOut() {
            Function<Message<byte[]>, Message<byte[]>> reapStale = functions.lookup("reap_stale", "application/json");
            Message<byte[]> reply = reapStale.apply(MessageBuilder.withPayload("{\"dry_run\":true}"
                    .getBytes(StandardCharsets.UTF_8)).setHeader("contentType", "application/json").build());
            String json = new String(reply.getPayload(), StandardCharsets.UTF_8);
            assertTrue(json.contains("\"dry_run\":true") && json.contains("\"orphans_removed\":0")
                    && json.contains("\"started_at\""), json);
        }

        @Test
        void theJarSchedulesItsOwnSweeps() {
            assertTrue(schedule.isRunning());
        }
    }

    @Nested
    @SpringBootTest(classes = PlaygroundApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
            properties = {"playground.local.enabled=true", "playground.identity.source=gateway", "playground.api.functions=create_db,heart_beat"})
    class WithoutTheReaperFunction {

        @DynamicPropertySource
        static void gatewayProof(DynamicPropertyRegistry registry) {
            TestGatewayProof.register(registry);
        }

        @Autowired
        ReaperSchedule schedule;

        @Test
        void anInstanceThatDoesNotServeReapStaleDoesNotSweep() {
            assertFalse(schedule.isRunning());
        }
    }

    @Nested
    @SpringBootTest(classes = PlaygroundApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
            properties = {"playground.local.enabled=true", "playground.identity.source=gateway", "playground.reaper.schedule=false"})
    class TriggeredByACronJob {

        @DynamicPropertySource
        static void gatewayProof(DynamicPropertyRegistry registry) {
            TestGatewayProof.register(registry);
        }

        @Autowired
        ReaperSchedule schedule;

        @Test
        void knativeTurnsTheScheduleOff() {
            assertFalse(schedule.isRunning());
        }
    }
}
