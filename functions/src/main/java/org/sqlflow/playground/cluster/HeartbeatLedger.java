package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ConfigMapList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.sqlflow.playground.error.PlaygroundError;

/**
 * "User X was alive at T", kept as entries of sharded ConfigMaps ({@code heartbeats-NN}): key = the user's
 * {@link UserKey#key()}, value = an RFC 3339 UTC instant. Sharding by a stable hash keeps every ConfigMap far
 * below Kubernetes' 1 MiB object limit at 100,000 users.
 *
 * <p>Writes are JSON merge patches of only the beating users' keys, with no read first. While one patch of a
 * shard is in flight, later beats for that shard queue up and go out together in the next patch (group
 * commit), so under load the writes per beat fall well below one. A beat within the precision window of the
 * instant this instance last stored for the user needs no write at all; that memory is only an optimisation
 * and may be lost with the process.
 */
public class HeartbeatLedger {

    public static final String NAME_PREFIX = "heartbeats-";

    private final KubernetesClient client;
    private final String namespace;
    private final int shardCount;
    private final Duration precision;
    private final Duration writeTimeout;
    private final Clock clock;
    private final ExecutorService writers;
    private final Shard[] shards;
    private final Map<String, Instant> lastStored = new ConcurrentHashMap<>();
    private final LongAdder writes = new LongAdder();

    public HeartbeatLedger(
            KubernetesClient client,
            String namespace,
            int shardCount,
            Duration precision,
            Duration writeTimeout,
            Clock clock,
            ExecutorService writers) {
        this.client = client;
        this.namespace = namespace;
        this.shardCount = shardCount;
        this.precision = precision;
        this.writeTimeout = writeTimeout;
        this.clock = clock;
        this.writers = writers;
        this.shards = new Shard[shardCount];
        for (int i = 0; i < shardCount; i++) {
            shards[i] = new Shard(shardName(i));
        }
    }

    public String shardName(int shard) {
        return NAME_PREFIX + (shardCount <= 100 ? String.format("%02d", shard) : String.format("%03d", shard));
    }

    public int shardOf(UserKey user) {
        return user.shard(shardCount);
    }

    public int shardCount() {
        return shardCount;
    }

    /**
     * Records that the user is alive now and returns the instant the ledger holds for them, which is within
     * the precision window of now. Blocks until the write (if one is needed) is acknowledged by the API server.
     */
    public Instant beat(UserKey user) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant stored = lastStored.get(user.key());
        if (stored != null
                && !stored.isAfter(now)
                && Duration.between(stored, now).compareTo(precision) < 0) {
            return stored;
        }
        Shard shard = shards[shardOf(user)];
        CompletableFuture<Void> written = shard.enqueue(user.key(), now.toString());
        try {
            written.get(writeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw PlaygroundError.SHUTTING_DOWN.exception(e);
        } catch (TimeoutException e) {
            // The API server did not acknowledge the write in time: its failure, not ours.
            throw PlaygroundError.CLUSTER_UNAVAILABLE.exception(e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("recording a heartbeat failed", e.getCause());
        }
        lastStored.merge(user.key(), now, (a, b) -> a.isAfter(b) ? a : b);
        return now;
    }

    /** An authoritative read of one shard (a quorum read at the API server, not a cache). */
    public Map<String, Instant> read(int shard) {
        ConfigMap cm = client.configMaps()
                .inNamespace(namespace)
                .withName(shardName(shard))
                .get();
        return parse(cm);
    }

    /**
     * Every heartbeat ConfigMap, found by its label, by name: with the shards of the current count, those of any
     * earlier count, whose entries stay valid until their users' next beats land in their new shards. A user's
     * instant is the latest over all of them.
     */
    public Map<String, Map<String, Instant>> readAll() {
        Map<String, Map<String, Instant>> all = new TreeMap<>();
        String next = null;
        do {
            // Small pages: a shard holds up to a few hundred KB at 100,000 users.
            ConfigMapList page = client.configMaps()
                    .inNamespace(namespace)
                    .withLabels(PlaygroundLabels.heartbeats())
                    .list(new ListOptionsBuilder()
                            .withLimit(4L)
                            .withContinue(next)
                            .build());
            page.getItems().forEach(cm -> all.put(cm.getMetadata().getName(), parse(cm)));
            next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
        } while (next != null && !next.isEmpty());
        return all;
    }

    /** The instant stored for one user, read from the API server; null if none. */
    public Instant lastBeat(UserKey user) {
        return read(shardOf(user)).get(user.key());
    }

    /**
     * Removes entries whose value is still exactly what the caller saw, with optimistic concurrency: a beat
     * that lands meanwhile changes the value and keeps its entry.
     */
    public int removeIfUnchanged(int shard, Map<String, Instant> expected) {
        return removeIfUnchanged(shardName(shard), expected);
    }

    /** {@link #removeIfUnchanged(int, Map)} for a heartbeat ConfigMap by name, a shard of any count. */
    public int removeIfUnchanged(String shardName, Map<String, Instant> expected) {
        if (expected.isEmpty()) {
            return 0;
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            ConfigMap cm = client.configMaps()
                    .inNamespace(namespace)
                    .withName(shardName)
                    .get();
            if (cm == null || cm.getData() == null) {
                return 0;
            }
            Map<String, String> data = new LinkedHashMap<>(cm.getData());
            int removed = 0;
            for (Map.Entry<String, Instant> e : expected.entrySet()) {
                String value = data.get(e.getKey());
                // Compared as parsed, so that an unreadable value (read as the epoch) can be removed too.
                if (value != null && parseInstant(value).equals(e.getValue())) {
                    data.remove(e.getKey());
                    removed++;
                }
            }
            if (removed == 0) {
                return 0;
            }
            cm.setData(data);
            try {
                client.configMaps().inNamespace(namespace).resource(cm).update();
                expected.keySet().forEach(lastStored::remove);
                return removed;
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
            }
        }
        throw PlaygroundError.CONFLICT.exception();
    }

    /** Forgets this instance's memory of a user's last write, so the next beat is written. */
    public void forget(UserKey user) {
        lastStored.remove(user.key());
    }

    static Map<String, Instant> parse(ConfigMap cm) {
        Map<String, Instant> out = new HashMap<>();
        if (cm == null || cm.getData() == null) {
            return out;
        }
        for (Map.Entry<String, String> e : cm.getData().entrySet()) {
            out.put(e.getKey(), parseInstant(e.getValue()));
        }
        return out;
    }

    /** An unreadable (hand-edited) value reads as the epoch: long stale, so the reaper cleans it up. */
    static Instant parseInstant(String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }

    /** Patches (and first creations) of heartbeat shards this instance has sent: against beats, the writes per beat. */
    public long writes() {
        return writes.sum();
    }

    private void write(String name, Map<String, String> entries) {
        writes.increment();
        String patch = Serialization.asJson(Map.of("data", entries));
        // Patched through a resource that only names the ConfigMap: fabric8's withName(..).patch(..) would
        // first GET the whole object (up to ~300 KB of other users' beats) just to learn its name.
        ConfigMap target = new ConfigMapBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .build();
        try {
            client.configMaps()
                    .inNamespace(namespace)
                    .resource(target)
                    .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
                throw e;
            }
            // First beat into this shard: make the ConfigMap, or lose the race to another instance and patch.
            ConfigMap cm = new ConfigMapBuilder()
                    .withNewMetadata()
                    .withName(name)
                    .withLabels(PlaygroundLabels.heartbeats())
                    .endMetadata()
                    .withData(entries)
                    .build();
            try {
                client.configMaps().inNamespace(namespace).resource(cm).create();
            } catch (KubernetesClientException race) {
                if (race.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw race;
                }
                client.configMaps()
                        .inNamespace(namespace)
                        .resource(target)
                        .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
            }
        }
    }

    /** One ConfigMap's queue: at most one patch in flight; what arrives meanwhile rides the next one. */
    private final class Shard {
        private final String name;
        private Map<String, String> pending = new LinkedHashMap<>();
        private CompletableFuture<Void> batch = new CompletableFuture<>();
        private boolean flushing;

        Shard(String name) {
            this.name = name;
        }

        CompletableFuture<Void> enqueue(String key, String value) {
            CompletableFuture<Void> mine;
            boolean startFlusher;
            synchronized (this) {
                pending.merge(key, value, (a, b) -> a.compareTo(b) >= 0 ? a : b);
                mine = batch;
                startFlusher = !flushing;
                flushing = true;
            }
            if (startFlusher) {
                try {
                    writers.execute(this::flushAll);
                } catch (RuntimeException e) {
                    synchronized (this) {
                        flushing = false;
                    }
                    throw e;
                }
            }
            return mine;
        }

        private void flushAll() {
            while (true) {
                Map<String, String> entries;
                CompletableFuture<Void> done;
                synchronized (this) {
                    if (pending.isEmpty()) {
                        flushing = false;
                        return;
                    }
                    entries = pending;
                    done = batch;
                    pending = new LinkedHashMap<>();
                    batch = new CompletableFuture<>();
                }
                try {
                    write(name, entries);
                    done.complete(null);
                } catch (RuntimeException e) {
                    done.completeExceptionally(e);
                }
            }
        }
    }

    /** For tests and the benchmark: the shard names in order. */
    public List<String> shardNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < shardCount; i++) {
            names.add(shardName(i));
        }
        return names;
    }
}
