package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.sqlflow.playground.PlaygroundApplication;
import org.sqlflow.playground.reaper.ReapReport;
import org.sqlflow.playground.reaper.ReapRequest;
import org.sqlflow.playground.testing.TestGatewayProof;

/**
 * The warm pool as the application wires it in local mode: an instance serving create_db fills the pool when it
 * starts (the stand-in kubelet makes the pooled databases Ready), and with a ready-wait of zero a new user's
 * create_db can only succeed by claiming one.
 */
@SpringBootTest(
        classes = PlaygroundApplication.class,
        webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {
            "playground.local.enabled=true",
            "playground.identity.source=gateway",
            "playground.local.database-start-delay=1s",
            "playground.database.ready-wait=0s",
            "playground.pool.size=2",
            "playground.reaper.schedule=false"
        })
class WarmPoolWiringTest {

    @DynamicPropertySource
    static void gatewayProof(DynamicPropertyRegistry registry) {
        TestGatewayProof.register(registry);
    }

    @Autowired
    ApplicationContext context;

    @Autowired
    MeterRegistry meters;

    @Test
    @SuppressWarnings("unchecked")
    void aNewUsersFirstCreateDbClaimsFromThePoolFilledAtStart() throws InterruptedException {
        Gauge ready = meters.get("playground.pool.size").tag("state", "ready").gauge();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (ready.value() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(ready.value()).as("the pool filled at start").isEqualTo(2.0);

        Function<UserRequest, CreateDbReply> createDb = context.getBean("create_db", Function.class);
        CreateDbReply reply = createDb.apply(new UserRequest("alice"));

        assertThat(reply.dataSource()).startsWith("mysql://root:").contains("@tcp(db-alice.");
        assertThat(meters.get("playground.pool.claims").counter().count()).isEqualTo(1.0);
        Function<UserRequest, HeartBeatReply> heartBeat = context.getBean("heart_beat", Function.class);
        deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        HeartBeatReply beat = heartBeat.apply(new UserRequest("alice"));
        while (!"ready".equals(beat.database()) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            beat = heartBeat.apply(new UserRequest("alice"));
        }
        assertThat(beat.database()).isEqualTo("ready");
        Function<ReapRequest, ReapReport> reapStale = context.getBean("reap_stale", Function.class);
        ReapReport report = reapStale.apply(new ReapRequest(true, true));
        assertThat(report.pool().size()).isEqualTo(2);
        assertThat(report.counts().examined()).isEqualTo(1);
    }
}
