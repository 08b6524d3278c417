package org.sqlflow.playground.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.Configuration;
import org.sqlflow.playground.settings.PlaygroundProperties;

/** Bad configuration stops the start with a message that names the property. */
class ConfigurationValidationTest {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(PlaygroundProperties.class)
    static class PropertiesOnly {}

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(PropertiesOnly.class);

    private static String failureText(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getMessage()).append('\n');
        }
        return sb.toString();
    }

    @Test
    void defaultsAreValid() {
        runner.run(ctx -> {
            assertThat(ctx).hasNotFailed();
            PlaygroundProperties p = ctx.getBean(PlaygroundProperties.class);
            assertThat(p.database().readyWait().toSeconds()).isEqualTo(15);
            assertThat(p.heartbeat().shards()).isEqualTo(16);
            assertThat(p.heartbeat().ttl().toMinutes()).isEqualTo(30);
            assertThat(p.database().image()).isEqualTo("sqlflow/sqlflow:mysql");
        });
    }

    @Test
    void aReadyWaitOfTwentySecondsOrMoreIsRejected() {
        runner.withPropertyValues("playground.database.ready-wait=20s").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(failureText(ctx.getStartupFailure())).contains("playground.database.ready-wait");
        });
    }

    @Test
    void otherBadValuesNameTheirProperty() {
        runner.withPropertyValues("playground.heartbeat.shards=0").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(failureText(ctx.getStartupFailure())).contains("heartbeat.shards");
        });
        runner.withPropertyValues("playground.namespace=Not_A_Namespace").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(failureText(ctx.getStartupFailure())).contains("namespace");
        });
        runner.withPropertyValues("playground.api.functions=create_db,drop_everything")
                .run(ctx -> {
                    assertThat(ctx).hasFailed();
                    assertThat(failureText(ctx.getStartupFailure())).contains("playground.api.functions");
                });
        runner.withPropertyValues("playground.heartbeat.precision=20m").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(failureText(ctx.getStartupFailure())).contains("playground.heartbeat.precision");
        });
    }
}
