package org.sqlflow.playground.cluster;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sqlflow.playground.settings.PlaygroundProperties;
import org.sqlflow.playground.settings.PlaygroundProperties.StorageKind;

/**
 * Builds the objects of one user's database with fabric8's typed builders. The Deployment is the root: it is
 * made first (its name is the claim on the user), and the Secret, Service and volume claim name it as their
 * owner, so deleting the Deployment lets the garbage collector delete the rest. A root that claims a warm-pool
 * database runs no pod: the pooled Deployment (with its own Secret) names the root as its owner instead, and the
 * user's Service selects the pooled pod ({@link WarmPool}).
 */
public final class DatabaseObjects {

    public static final String PASSWORD_KEY = "password";
    static final String CONTAINER = "mysql";
    private static final String DATA_VOLUME = "data";
    private static final String ENTRYPOINT = loadEntrypoint();

    private final PlaygroundProperties.Database db;

    public DatabaseObjects(PlaygroundProperties.Database db) {
        this.db = db;
    }

    public Deployment root(UserKey user) {
        return deployment(
                meta(user),
                PlaygroundLabels.database(user),
                Map.of(
                        PlaygroundLabels.USER,
                        user.key(),
                        PlaygroundLabels.COMPONENT,
                        PlaygroundLabels.COMPONENT_DATABASE),
                user.resourceName(),
                1);
    }

    /**
     * A root that claims the warm-pool database {@code pooledName} instead of running a pod of its own. Should the
     * claim fail, setting its replicas to 1 turns it into an ordinary root: its pod spec is the ordinary one.
     */
    public Deployment claimingRoot(UserKey user, String pooledName) {
        Deployment root = root(user);
        root.getSpec().setReplicas(0);
        root.getMetadata().getAnnotations().put(PlaygroundLabels.CLAIMS, pooledName);
        return root;
    }

    /** An unclaimed warm-pool database: the same pod as a user's, for no one yet, with its own Secret. */
    public Deployment pooled(String name) {
        Map<String, String> labels = PlaygroundLabels.pooled(name);
        Map<String, String> metaLabels = new LinkedHashMap<>(labels);
        metaLabels.put(PlaygroundLabels.POOL_STATE, PlaygroundLabels.POOL_UNCLAIMED);
        ObjectMeta meta =
                new ObjectMetaBuilder().withName(name).withLabels(metaLabels).build();
        return deployment(
                meta,
                labels,
                Map.of(PlaygroundLabels.POOL, name, PlaygroundLabels.COMPONENT, PlaygroundLabels.COMPONENT_DATABASE),
                name,
                1);
    }

    /** The Secret of a warm-pool database, owned by it. */
    public Secret pooledSecret(Deployment pooled, String password) {
        String name = pooled.getMetadata().getName();
        return new SecretBuilder()
                .withMetadata(new ObjectMetaBuilder()
                        .withName(name)
                        .withLabels(PlaygroundLabels.pooled(name))
                        .withOwnerReferences(ownerReference(pooled))
                        .build())
                .withType("Opaque")
                .withStringData(Map.of(PASSWORD_KEY, password))
                .build();
    }

    /** The volume claim of a warm-pool database, owned by it. */
    public PersistentVolumeClaim pooledVolumeClaim(Deployment pooled) {
        String name = pooled.getMetadata().getName();
        return volumeClaim(new ObjectMetaBuilder()
                .withName(name)
                .withLabels(PlaygroundLabels.pooled(name))
                .withOwnerReferences(ownerReference(pooled))
                .build());
    }

    /** Whether the object names the owner of this uid among its owner references. */
    public static boolean ownedBy(HasMetadata dependent, String ownerUid) {
        List<OwnerReference> refs = dependent.getMetadata().getOwnerReferences();
        return ownerUid != null && refs != null && refs.stream().anyMatch(ref -> ownerUid.equals(ref.getUid()));
    }

    private Deployment deployment(
            ObjectMeta meta,
            Map<String, String> podLabels,
            Map<String, String> selector,
            String secretAndClaimName,
            int replicas) {
        return new DeploymentBuilder()
                .withMetadata(meta)
                .withNewSpec()
                .withReplicas(replicas)
                .withNewSelector()
                .withMatchLabels(selector)
                .endSelector()
                // One writer on the data directory at a time.
                .withNewStrategy()
                .withType("Recreate")
                .endStrategy()
                .withNewTemplate()
                .withNewMetadata()
                .withLabels(podLabels)
                .addToLabels(PlaygroundLabels.SIDECAR_INJECT, "false")
                .endMetadata()
                .withNewSpec()
                .withAutomountServiceAccountToken(false)
                .withEnableServiceLinks(false)
                .withSecurityContext(podSecurity())
                .withContainers(container(secretAndClaimName))
                .withVolumes(dataVolume(secretAndClaimName))
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    public Secret secret(UserKey user, Deployment owner, String password) {
        return new SecretBuilder()
                .withMetadata(owned(user, owner))
                .withType("Opaque")
                .withStringData(Map.of(PASSWORD_KEY, password))
                .build();
    }

    /** The user's Service: it selects the root's pod, or the pod of the warm-pool database the root claims. */
    public Service service(UserKey user, Deployment owner) {
        return new ServiceBuilder()
                .withMetadata(owned(user, owner))
                .withNewSpec()
                .withSelector(serviceSelector(user, owner))
                .addNewPort()
                .withName("mysql")
                .withPort(db.port())
                .withNewTargetPort(db.port())
                .withProtocol("TCP")
                .endPort()
                .endSpec()
                .build();
    }

    public static Map<String, String> serviceSelector(UserKey user, Deployment root) {
        String pooled = DatabaseRoot.of(root).claims();
        return pooled == null
                ? Map.of(
                        PlaygroundLabels.USER,
                        user.key(),
                        PlaygroundLabels.COMPONENT,
                        PlaygroundLabels.COMPONENT_DATABASE)
                : Map.of(
                        PlaygroundLabels.POOL, pooled, PlaygroundLabels.COMPONENT, PlaygroundLabels.COMPONENT_DATABASE);
    }

    public boolean usesVolumeClaim() {
        return db.storage().kind() == StorageKind.PERSISTENT_VOLUME_CLAIM;
    }

    public PersistentVolumeClaim volumeClaim(UserKey user, Deployment owner) {
        return volumeClaim(owned(user, owner));
    }

    private PersistentVolumeClaim volumeClaim(ObjectMeta meta) {
        String storageClass = db.storage().storageClass();
        return new PersistentVolumeClaimBuilder()
                .withMetadata(meta)
                .withNewSpec()
                .withAccessModes("ReadWriteOnce")
                .withStorageClassName(storageClass == null || storageClass.isBlank() ? null : storageClass)
                .withNewResources()
                .addToRequests("storage", new Quantity(db.storage().size()))
                .endResources()
                .endSpec()
                .build();
    }

    /** The address SQLFlow uses: the Service's cluster DNS name. */
    public String host(UserKey user, String namespace) {
        return user.resourceName() + "." + namespace + "." + db.serviceDomain();
    }

    public int port() {
        return db.port();
    }

    public String databaseUser() {
        return db.user();
    }

    private ObjectMeta meta(UserKey user) {
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put(PlaygroundLabels.USER_ID, user.userId());
        return new ObjectMetaBuilder()
                .withName(user.resourceName())
                .withLabels(PlaygroundLabels.database(user))
                .withAnnotations(annotations)
                .build();
    }

    private ObjectMeta owned(UserKey user, HasMetadata owner) {
        ObjectMeta meta = meta(user);
        meta.setOwnerReferences(List.of(ownerReference(owner)));
        return meta;
    }

    /** The reference that makes the garbage collector delete a dependent with its owner. */
    public static OwnerReference ownerReference(HasMetadata owner) {
        return new OwnerReferenceBuilder()
                .withApiVersion(owner.getApiVersion() == null ? "apps/v1" : owner.getApiVersion())
                .withKind(owner.getKind() == null ? "Deployment" : owner.getKind())
                .withName(owner.getMetadata().getName())
                .withUid(owner.getMetadata().getUid())
                .withController(true)
                .build();
    }

    private Container container(String secretName) {
        ContainerBuilder c = new ContainerBuilder()
                .withName(CONTAINER)
                .withImage(db.image())
                .addNewEnv()
                .withName("MYSQL_ROOT_PASSWORD")
                .withNewValueFrom()
                .withNewSecretKeyRef()
                .withName(secretName)
                .withKey(PASSWORD_KEY)
                .endSecretKeyRef()
                .endValueFrom()
                .endEnv()
                .addNewEnv()
                .withName("MYSQL_PORT")
                .withValue(Integer.toString(db.port()))
                .endEnv()
                .addNewPort()
                .withName("mysql")
                .withContainerPort(db.port())
                .withProtocol("TCP")
                .endPort()
                // Log in with the user's own password: Ready means "SQLFlow can connect with what create_db returns".
                .withNewReadinessProbe()
                .withNewExec()
                .withCommand(
                        "sh",
                        "-c",
                        "mysql -h127.0.0.1 -P\"$MYSQL_PORT\" -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e 'select 1' >/dev/null 2>&1")
                .endExec()
                .withPeriodSeconds(2)
                .withTimeoutSeconds(5)
                .withFailureThreshold(3)
                .endReadinessProbe()
                .withNewResources()
                .addToRequests("cpu", new Quantity(db.resources().cpuRequest()))
                .addToRequests("memory", new Quantity(db.resources().memoryRequest()))
                .addToLimits("cpu", new Quantity(db.resources().cpuLimit()))
                .addToLimits("memory", new Quantity(db.resources().memoryLimit()))
                .endResources()
                .withSecurityContext(containerSecurity())
                .addNewVolumeMount()
                .withName(DATA_VOLUME)
                .withMountPath("/var/lib/mysql")
                .endVolumeMount();
        if (db.entrypoint() == PlaygroundProperties.Entrypoint.SQLFLOW_START_SCRIPT) {
            // sqlflow/sqlflow:mysql is Alpine: /bin/sh is BusyBox ash, and there is no bash.
            c.withCommand("/bin/sh", "-c", ENTRYPOINT);
        }
        return c.build();
    }

    private io.fabric8.kubernetes.api.model.PodSecurityContext podSecurity() {
        PodSecurityContextBuilder b = new PodSecurityContextBuilder()
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile();
        if (db.runAsUser() != null) {
            b.withRunAsNonRoot(true)
                    .withRunAsUser(db.runAsUser())
                    .withRunAsGroup(db.runAsUser())
                    .withFsGroup(db.runAsUser());
        }
        return b.build();
    }

    private SecurityContext containerSecurity() {
        SecurityContextBuilder b = new SecurityContextBuilder().withAllowPrivilegeEscalation(false);
        if (db.runAsUser() != null) {
            b.withNewCapabilities().withDrop("ALL").endCapabilities();
        } else {
            // Started as root only to hand the data directory to its mysql user and switch to it.
            b.withNewCapabilities()
                    .withDrop("ALL")
                    .withAdd("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID")
                    .endCapabilities();
        }
        return b.build();
    }

    private Volume dataVolume(String claimName) {
        VolumeBuilder v = new VolumeBuilder().withName(DATA_VOLUME);
        if (usesVolumeClaim()) {
            return v.withNewPersistentVolumeClaim()
                    .withClaimName(claimName)
                    .endPersistentVolumeClaim()
                    .build();
        }
        return v.withNewEmptyDir()
                .withSizeLimit(new Quantity(db.storage().size()))
                .endEmptyDir()
                .build();
    }

    private static String loadEntrypoint() {
        try (InputStream in = DatabaseObjects.class.getResourceAsStream("/sqlflow-mysql-entrypoint.sh")) {
            if (in == null) {
                throw new IllegalStateException("sqlflow-mysql-entrypoint.sh is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
