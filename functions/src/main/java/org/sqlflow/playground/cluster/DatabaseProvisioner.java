package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.error.PlaygroundError;
import org.sqlflow.playground.error.PlaygroundException;

/**
 * Create-or-get of one user's database. Every step is idempotent and every object is created with a fixed
 * name, so repeated or concurrent calls for one user converge on one database and one password, and a call
 * after a failure half-way finishes what the failed one started.
 */
public class DatabaseProvisioner {

    private static final Logger log = LoggerFactory.getLogger(DatabaseProvisioner.class);

    private final KubernetesClient client;
    private final String namespace;
    private final DatabaseObjects objects;
    private final DatabaseRoots roots;
    private final DatabaseDirectory directory;
    private final HeartbeatLedger ledger;
    private final ExpiryPolicy expiry;
    private final Duration readyWait;
    private final int maxDatabases;
    private final WarmPool pool;
    /** Concurrent create_db calls for one database share one watch on it, not one each. */
    private final SharedWaits readiness = new SharedWaits();

    public DatabaseProvisioner(
            KubernetesClient client,
            String namespace,
            DatabaseObjects objects,
            DatabaseRoots roots,
            DatabaseDirectory directory,
            HeartbeatLedger ledger,
            ExpiryPolicy expiry,
            Duration readyWait,
            int maxDatabases,
            WarmPool pool) {
        this.client = client;
        this.namespace = namespace;
        this.objects = objects;
        this.roots = roots;
        this.directory = directory;
        this.ledger = ledger;
        this.expiry = expiry;
        this.readyWait = readyWait;
        this.maxDatabases = maxDatabases;
        this.pool = pool;
    }

    /** What create_db answers. The password is inside {@code dataSource}; never log this record. */
    public record Provisioned(String userId, String dataSource, Instant expiresAt, boolean created) {
        @Override
        public String toString() {
            return "Provisioned[userId=" + userId + ", created=" + created + "]";
        }
    }

    public Provisioned createOrGet(UserKey user) {
        long deadline = System.nanoTime() + readyWait.toNanos();
        boolean created = false;
        Deployment root = roots.get(user);
        if (root == null) {
            List<Deployment> pooled = pool.candidates();
            if (pooled.isEmpty()) {
                pool.recordMiss();
                if (directory.databaseCount() >= maxDatabases) {
                    throw PlaygroundError.PLAYGROUND_FULL.exception();
                }
            }
            Deployment fresh = pooled.isEmpty()
                    ? objects.root(user)
                    : objects.claimingRoot(user, pooled.get(0).getMetadata().getName());
            try {
                root = client.apps()
                        .deployments()
                        .inNamespace(namespace)
                        .resource(fresh)
                        .create();
                created = true;
                log.info("created database {} for user key {}", user.resourceName(), user.key());
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
                root = roots.get(user);
                if (root == null) {
                    throw PlaygroundError.CONFLICT.exception(e);
                }
            }
        }
        DatabaseRoots.checkOwner(root, user);
        if (DatabaseRoot.of(root).isDeleting()) {
            throw PlaygroundError.DATABASE_DELETING.exception();
        }
        if (DatabaseRoot.of(root).isCondemned()) {
            root = roots.rescue(root);
            if (root == null) {
                throw PlaygroundError.DATABASE_DELETING.exception();
            }
        }
        // The Deployment whose pod serves the user: the root's own, or the warm-pool database it claims.
        Deployment database = root;
        if (DatabaseRoot.of(root).claims() != null) {
            WarmPool.Claim claim = pool.settle(root, user);
            root = claim.root();
            database = claim.pooled() == null ? root : claim.pooled();
        }
        final Deployment owner = root;
        String password = database == root ? passwordOf(ensureSecret(user, owner)) : passwordOf(pooledSecret(database));
        ensureService(user, owner);
        if (objects.usesVolumeClaim() && database == root) {
            createOrFetch(
                    () -> client.persistentVolumeClaims()
                            .inNamespace(namespace)
                            .resource(objects.volumeClaim(user, owner))
                            .create(),
                    () -> client.persistentVolumeClaims()
                            .inNamespace(namespace)
                            .withName(user.resourceName())
                            .get());
        }
        Instant beat = ledger.beat(user);
        awaitReady(database, deadline);
        String dataSource = "mysql://" + objects.databaseUser() + ":" + password + "@tcp("
                + objects.host(user, namespace) + ":" + objects.port() + ")/?maxAllowedPacket=0";
        return new Provisioned(
                user.userId(),
                dataSource,
                expiry.expiresAt(beat, DatabaseRoot.of(owner).createdAt()),
                created);
    }

    /** The user's Service, owned by the root and selecting the pod that serves the user. */
    private void ensureService(UserKey user, Deployment owner) {
        // Read first: a repeated create_db (the common case) then makes no write attempt, where create-first
        // cost a POST answered 409 and a GET (measured by bench/).
        io.fabric8.kubernetes.api.model.Service existing = client.services()
                .inNamespace(namespace)
                .withName(user.resourceName())
                .get();
        io.fabric8.kubernetes.api.model.Service service = existing != null
                ? existing
                : createOrFetch(
                        () -> client.services()
                                .inNamespace(namespace)
                                .resource(objects.service(user, owner))
                                .create(),
                        () -> client.services()
                                .inNamespace(namespace)
                                .withName(user.resourceName())
                                .get());
        if (!DatabaseObjects.ownedBy(service, owner.getMetadata().getUid())) {
            throw leftOver(service);
        }
        Map<String, String> selector = DatabaseObjects.serviceSelector(user, owner);
        if (!selector.equals(service.getSpec().getSelector())) {
            // The root's claim moved after the Service was made (its pooled database went): point it at the pod that
            // serves the user now. update() sends the resourceVersion read, so a concurrent fix answers 409.
            try {
                client.services()
                        .inNamespace(namespace)
                        .resource(new ServiceBuilder(service)
                                .editSpec()
                                .withSelector(selector)
                                .endSpec()
                                .build())
                        .update();
                log.info("the Service {} now selects the pod that serves user key {}", user.resourceName(), user.key());
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                    throw e;
                }
                throw PlaygroundError.CONFLICT.exception(e);
            }
        }
    }

    /**
     * An object of the user's name that a previous database left behind: its owner is gone, so the garbage collector
     * (or, where none runs, the reaper's orphan sweep) removes it; the user's next call finds the name free. create_db
     * never deletes: its Role grants no delete, so a replaced object can only be one the cluster removed itself.
     */
    private static PlaygroundException leftOver(HasMetadata object) {
        log.info(
                "the {} {} belongs to a removed database; waiting for it to go",
                object.getKind(),
                object.getMetadata().getName());
        return PlaygroundError.DATABASE_DELETING.exception();
    }

    /** The Secret of a claimed warm-pool database: the password it was started with is the user's now. */
    private Secret pooledSecret(Deployment pooled) {
        Secret secret = client.secrets()
                .inNamespace(namespace)
                .withName(pooled.getMetadata().getName())
                .get();
        if (secret == null
                || !DatabaseObjects.ownedBy(secret, pooled.getMetadata().getUid())) {
            log.error(
                    "the pooled database {} has no Secret of its own",
                    pooled.getMetadata().getName());
            throw PlaygroundError.DATABASE_DAMAGED.exception();
        }
        return secret;
    }

    private Secret ensureSecret(UserKey user, Deployment owner) {
        Secret existing = client.secrets()
                .inNamespace(namespace)
                .withName(user.resourceName())
                .get();
        if (existing != null
                && DatabaseObjects.ownedBy(existing, owner.getMetadata().getUid())) {
            return existing;
        }
        if (existing != null) {
            // Its password must not be handed out again, and its garbage collection would remove a reused Secret.
            throw leftOver(existing);
        }
        // Concurrent callers each draw a password; the API server keeps exactly one, and the losers read it.
        return createOrFetch(
                () -> client.secrets()
                        .inNamespace(namespace)
                        .resource(objects.secret(user, owner, Passwords.generate()))
                        .create(),
                () -> client.secrets()
                        .inNamespace(namespace)
                        .withName(user.resourceName())
                        .get());
    }

    private static String passwordOf(Secret secret) {
        String encoded = secret.getData() == null ? null : secret.getData().get(DatabaseObjects.PASSWORD_KEY);
        if (encoded != null) {
            return new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        }
        String plain =
                secret.getStringData() == null ? null : secret.getStringData().get(DatabaseObjects.PASSWORD_KEY);
        if (plain == null) {
            log.error(
                    "the database Secret {} has no password",
                    secret.getMetadata().getName());
            throw PlaygroundError.DATABASE_DAMAGED.exception();
        }
        return plain;
    }

    private void awaitReady(Deployment database, long deadlineNanos) {
        String name = database.getMetadata().getName();
        if (DatabaseRoot.isReady(database) || DatabaseRoot.isReady(directory.cached(name))) {
            return;
        }
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining > 0
                && readiness.await(
                        name,
                        () -> client.apps()
                                .deployments()
                                .inNamespace(namespace)
                                .withName(name)
                                .informOnCondition(list -> list.stream().anyMatch(DatabaseRoot::isReady)),
                        remaining)) {
            return;
        }
        throw PlaygroundError.DATABASE_STARTING.exception();
    }

    /** Create, or on "already exists" (another caller was first) read what is there. */
    private static <T extends HasMetadata> T createOrFetch(Supplier<T> create, Supplier<T> fetch) {
        try {
            return create.get();
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            T existing = fetch.get();
            if (existing == null) {
                // Deleted between our create and our read: the next call starts afresh.
                throw PlaygroundError.CONFLICT.exception(e);
            }
            return existing;
        }
    }
}
