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

    /** The same database configuration with each database's data on a 1 Gi volume claim (default storage class). */
    public static PlaygroundProperties.Database withVolumeClaims(PlaygroundProperties.Database d) {
        return new PlaygroundProperties.Database(
                d.image(),
                d.entrypoint(),
                d.port(),
                d.user(),
                d.serviceDomain(),
                d.readyWait(),
                d.retryAfter(),
                d.runAsUser(),
                d.maxDatabases(),
                d.resources(),
                new PlaygroundProperties.Storage(PlaygroundProperties.StorageKind.PERSISTENT_VOLUME_CLAIM, "1Gi", ""));
    }
}
