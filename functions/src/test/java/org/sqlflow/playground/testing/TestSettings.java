package org.sqlflow.playground.testing;

import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.sqlflow.playground.settings.PlaygroundProperties;

/** The application's settings, bound from {@code playground.*} as Spring binds them: its defaults and a test's own. */
public final class TestSettings {

    private TestSettings() {}

    /** @param overrides property names without the {@code playground.} prefix, e.g. {@code database.ready-wait} */
    public static PlaygroundProperties bind(Map<String, String> overrides) {
        Map<String, String> properties = new HashMap<>();
        overrides.forEach((name, value) -> properties.put("playground." + name, value));
        return new Binder(new MapConfigurationPropertySource(properties))
                .bindOrCreate("playground", PlaygroundProperties.class);
    }

    /** The same settings with another database configuration (a test's image, storage or entrypoint). */
    public static PlaygroundProperties withDatabase(PlaygroundProperties p, PlaygroundProperties.Database database) {
        return new PlaygroundProperties(
                p.namespace(),
                database,
                p.pool(),
                p.heartbeat(),
                p.reaper(),
                p.api(),
                p.identity(),
                p.kubernetes(),
                p.local(),
                p.tls());
    }
}
