package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.cloud.function.context.FunctionRegistration;
import org.springframework.cloud.function.context.catalog.FunctionTypeUtils;
import org.springframework.cloud.function.context.catalog.SimpleFunctionRegistry;
import org.springframework.cloud.function.json.JacksonMapper;
import org.springframework.core.convert.support.DefaultConversionService;
import org.springframework.messaging.converter.CompositeMessageConverter;
import org.springframework.messaging.converter.StringMessageConverter;
import tools.jackson.databind.json.JsonMapper;

/**
 * The edge never finds a function missing while serving: a served function the framework's catalog does not hold
 * stops the application at start-up. Against spring-cloud-function's own catalog.
 */
class ApiEdgeFilterTest {

    private static FunctionCatalog catalogWith(String... names) {
        SimpleFunctionRegistry catalog = new SimpleFunctionRegistry(
                new DefaultConversionService(),
                new CompositeMessageConverter(List.of(new StringMessageConverter())),
                new JacksonMapper(JsonMapper.builder().build()));
        for (String name : names) {
            Function<String, String> echo = s -> s;
            catalog.register(new FunctionRegistration<>(echo, name)
                    .type(FunctionTypeUtils.functionType(String.class, String.class)));
        }
        return catalog;
    }

    private static ApiEdgeFilter edge(Set<String> served, FunctionCatalog catalog) {
        return new ApiEdgeFilter(
                served,
                catalog,
                new ApiInput(64, null, false),
                new InFlightLimits(new InFlightLimits.Settings(1, 1, 1)),
                Duration.ofSeconds(1),
                new SimpleMeterRegistry());
    }

    @Test
    void aServedFunctionTheCatalogDoesNotHoldStopsTheStart() {
        assertThatThrownBy(() -> edge(Set.of("heart_beat", "create_db"), catalogWith("heart_beat", "reap_stale")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("create_db");
        // A catalog of one function answers a lookup of any name with that one; that is not the function asked for.
        assertThatThrownBy(() -> edge(Set.of("heart_beat", "create_db"), catalogWith("heart_beat")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("create_db");
    }

    @Test
    void onlyTheServedFunctionsMustExist() {
        assertThat(edge(Set.of("heart_beat"), catalogWith("heart_beat"))).isNotNull();
    }
}
