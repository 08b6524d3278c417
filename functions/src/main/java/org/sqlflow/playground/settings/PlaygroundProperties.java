package org.sqlflow.playground.settings;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Every setting of the playground, bound from {@code playground.*}. A bad value stops the start with a
 * message that names the property, instead of surfacing later as a confusing 5xx.
 */
@Validated
@ConfigurationProperties("playground")
public record PlaygroundProperties(
        @NotBlank
        @Pattern(regexp = "[a-z0-9]([-a-z0-9]*[a-z0-9])?", message = "must be a Kubernetes namespace name")
        @DefaultValue("sqlflow-playground")
        String namespace,

        @Valid @NotNull @DefaultValue Database database,
        @Valid @NotNull @DefaultValue Pool pool,
        @Valid @NotNull @DefaultValue Heartbeat heartbeat,
        @Valid @NotNull @DefaultValue Reaper reaper,
        @Valid @NotNull @DefaultValue Api api,
        @Valid @NotNull @DefaultValue Identity identity,
        @Valid @NotNull @DefaultValue Kubernetes kubernetes,
        @Valid @NotNull @DefaultValue Local local,
        @Valid @NotNull @DefaultValue Tls tls) {

    /** How each user's MySQL database is made. */
    public record Database(
            @NotBlank @DefaultValue("sqlflow/sqlflow:mysql") String image,
            @NotNull @DefaultValue("sqlflow-start-script") Entrypoint entrypoint,
            @Min(1) @Max(65535) @DefaultValue("3306") int port,
            @NotBlank @DefaultValue("root") String user,
            @NotBlank @DefaultValue("svc.cluster.local") String serviceDomain,
            @NotNull @DefaultValue("15s") Duration readyWait,
            @NotNull @DefaultValue("5s") Duration retryAfter,
            /* Unset: the image starts as root and drops to its mysql user itself (sqlflow/sqlflow:mysql does);
            set: the pod runs as this uid with the "restricted" Pod Security profile. */
            Long runAsUser,
            @Min(1) @DefaultValue("200") int maxDatabases,
            @Valid @NotNull @DefaultValue Resources resources,
            @Valid @NotNull @DefaultValue Storage storage) {

        public Database {
            // The SQLFlow magic gives up after 20 s (tornado's default); a longer wait would turn a 503 that
            // tells the person to re-run the cell into a client-side timeout that tells them nothing.
            if (readyWait != null && (readyWait.isNegative() || readyWait.compareTo(Duration.ofSeconds(20)) >= 0)) {
                throw new IllegalArgumentException(
                        "playground.database.ready-wait must be between 0 and 20s (the SQLFlow client times out at 20 s), got "
                                + readyWait);
            }
        }
    }

    /**
     * Databases started ahead of demand, so that a new user's first create_db answers at once. They count against
     * database.max-databases.
     */
    public record Pool(
            /* Unclaimed databases kept Ready; 0 turns the pool off. */
            @Min(0) @Max(100) @DefaultValue("2") int size,
            /* An unclaimed database not Ready for longer than this is replaced (an image that cannot be pulled,
            a node that died). */
            @NotNull @DefaultValue("10m") Duration brokenAfter) {}

    /** What the database container runs. */
    public enum Entrypoint {
        /**
         * For sqlflow/sqlflow:mysql, whose /start.bash opens the network with root's password "root": the pod runs
         * the playground's own entrypoint instead (sqlflow-mysql-entrypoint.sh, POSIX sh), which sets the per-user
         * password and loads the image's /datasets with networking off, then serves.
         */
        SQLFLOW_START_SCRIPT,
        /** The image's own entrypoint, which must honour MYSQL_ROOT_PASSWORD like the official mysql and mariadb images. */
        IMAGE
    }

    public record Resources(
            @NotBlank @DefaultValue("250m") String cpuRequest,
            @NotBlank @DefaultValue("1") String cpuLimit,
            @NotBlank @DefaultValue("512Mi") String memoryRequest,
            @NotBlank @DefaultValue("1Gi") String memoryLimit) {}

    /** Ephemeral storage is lost with the pod; a PersistentVolumeClaim survives pod restarts until the reaper runs. */
    public record Storage(
            @NotNull @DefaultValue("ephemeral") StorageKind kind,
            @NotBlank @DefaultValue("5Gi") String size,
            @DefaultValue("") String storageClass) {}

    public enum StorageKind {
        EPHEMERAL,
        PERSISTENT_VOLUME_CLAIM
    }

    /** The heartbeat ledger: sharded ConfigMaps, one entry per user. */
    public record Heartbeat(
            @Min(1) @Max(1000) @DefaultValue("16") int shards,
            @NotNull @DefaultValue("60s") Duration precision,
            @NotNull @DefaultValue("30m") Duration ttl,
            @Min(1) @Max(64) @DefaultValue("4") int writerThreads) {

        public Heartbeat {
            if (precision != null && ttl != null && precision.multipliedBy(4).compareTo(ttl) > 0) {
                throw new IllegalArgumentException(
                        "playground.heartbeat.precision must be at most a quarter of playground.heartbeat.ttl, got "
                                + precision + " and " + ttl);
            }
        }
    }

    /** The reaper's schedule and rules. */
    public record Reaper(
            @DefaultValue("false") boolean dryRun,
            @DefaultValue("0s") Duration maxAge,
            @NotNull @DefaultValue("5m") Duration interval,
            @DefaultValue("true") boolean schedule,
            @Min(1) @Max(64) @DefaultValue("4") int parallelism,
            @Min(1) @DefaultValue("500") int pageSize,
            /* A sweep asked for sooner than this after the last one started is refused (429): a holder of the
            trigger's proof cannot make the reaper hammer the API server. */
            @NotNull @DefaultValue("60s") Duration minInterval) {

        public Reaper {
            if (minInterval != null && minInterval.isNegative()) {
                throw new IllegalArgumentException(
                        "playground.reaper.min-interval must not be negative, got " + minInterval);
            }
        }
    }

    /** Which endpoints this instance serves: one Knative Service per function, all of them standalone. */
    public record Api(
            @NotNull @DefaultValue({"create_db", "heart_beat", "reap_stale", "databases"})
            Set<String> functions,

            @Min(1) @DefaultValue("65536") int maxBodyBytes,
            /* Only for the reaper's own Knative Service, in gateway mode: the proof this instance checks is the
            reaper CronJob's own value, and a request carrying it may sweep without an identity (its reply
            then holds counts only). */
            @DefaultValue("false") boolean reaperTrigger,
            @Valid @NotNull @DefaultValue Limits limits) {

        public Api {
            if (functions != null) {
                for (String f : functions) {
                    if (!List.of("create_db", "heart_beat", "reap_stale", "databases")
                            .contains(f)) {
                        throw new IllegalArgumentException("playground.api.functions: unknown function '" + f
                                + "' (known: create_db, heart_beat, reap_stale, databases)");
                    }
                }
                // The trigger's proof must never open a public function: an instance that holds it serves the
                // reaper alone.
                if (reaperTrigger && !functions.equals(Set.of("reap_stale"))) {
                    throw new IllegalArgumentException("playground.api.reaper-trigger=true needs "
                            + "playground.api.functions=reap_stale and nothing else, got " + functions);
                }
            }
        }
    }

    /**
     * create_db calls in progress at once (each holds a request thread while its database starts); past a limit
     * the call is answered at once: 429 too_many_requests per user id or certificate, 503 playground_busy for
     * the instance. The instance-wide bound stays well under Tomcat's 200 request threads
     * (server.tomcat.threads.max), so heart_beat always finds a thread.
     */
    public record Limits(
            @Min(1) @DefaultValue("4") int createDbPerUser,
            @Min(1) @DefaultValue("8") int createDbPerCaller,
            @Min(1) @DefaultValue("64") int createDbInFlight) {}

    /**
     * Where the caller's verified identity comes from. In gateway mode the identity header counts only when the
     * request also carries the gateway's proof: a per-installation random value that only the public gateway
     * adds, read from files mounted from a Kubernetes Secret ({@code current}, and {@code next} during a
     * rotation).
     */
    public record Identity(
            @NotNull @DefaultValue("tls") IdentitySource source,

            @NotBlank @DefaultValue("x-playground-client-subject")
            String header,

            @NotBlank @DefaultValue("sqlflow-playground-admins")
            String adminOrganizationalUnit,

            @NotBlank @DefaultValue("x-playground-gateway-proof")
            String proofHeader,
            /* The mounted Secret's directory; required in gateway mode. */
            java.nio.file.Path proofDirectory,
            /* How often the proof files are re-read (a rotation reaches a running pod within the kubelet's
            Secret sync delay plus this). */
            @NotNull @DefaultValue("30s") Duration proofRefresh) {

        public Identity {
            if (header != null && header.equalsIgnoreCase(proofHeader)) {
                throw new IllegalArgumentException(
                        "playground.identity.proof-header must differ from playground.identity.header");
            }
            if (proofRefresh != null && (proofRefresh.isNegative() || proofRefresh.isZero())) {
                throw new IllegalArgumentException(
                        "playground.identity.proof-refresh must be positive, got " + proofRefresh);
            }
        }
    }

    /** How hard we wait on the API server: a slow API becomes a 503 long before the notebook's 20 s. */
    public record Kubernetes(
            @NotNull @DefaultValue("3s") Duration connectTimeout,
            @NotNull @DefaultValue("5s") Duration requestTimeout,
            @NotNull @DefaultValue("5s") Duration writeTimeout) {}

    /** --local: an embedded API server and a stand-in kubelet, for trying the server on one machine. */
    public record Local(
            @DefaultValue("false") boolean enabled,
            @NotNull @DefaultValue("2s") Duration databaseStartDelay,
            /* The embedded API server's bearer token; random when unset. For tools that talk to that server
            (bench/): set it in the environment (PLAYGROUND_LOCAL_API_TOKEN), never on a command line, which
            every local user can read. */
            String apiToken) {}

    /**
     * Standalone TLS extras; the certificates themselves are Spring Boot's server.ssl.* (where the original
     * playground server's flags --ca_crt, --server_crt and --server_key land).
     */
    public record Tls(
            /* A CRL (PEM or DER) from the certs tool; re-read when the file changes. Required standalone. */
            java.nio.file.Path crl,
            /* --no-crl: start standalone without a CRL, so no revocation can ever take effect. */
            @DefaultValue("false") boolean noCrl) {}

    public enum IdentitySource {
        /** Standalone: the jar terminates mutual TLS and reads the peer certificate. */
        TLS,
        /** Behind the Istio ingress gateway, which writes the verified subject into one header. */
        GATEWAY
    }
}
