package org.sqlflow.playground.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

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
import org.sqlflow.playground.config.PlaygroundProperties;
import org.sqlflow.playground.config.PlaygroundProperties.StorageKind;

/**
 * Builds the objects of one user's database with fabric8's typed builders. The Deployment is the root: it is
 * made first (its name is the claim on the user), and the Secret, Service and volume claim name it as their
 * owner, so deleting the Deployment lets the garbage collector delete the rest.
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
        Map<String, String> labels = PlaygroundLabels.database(user);
        return new DeploymentBuilder()
                .withMetadata(meta(user))
                .withNewSpec()
                    .withReplicas(1)
                    .withNewSelector().withMatchLabels(Map.of(PlaygroundLabels.USER, user.key(),
                            PlaygroundLabels.COMPONENT, PlaygroundLabels.COMPONENT_DATABASE)).endSelector()
                    // One writer on the data directory at a time.
                    .withNewStrategy().withType("Recreate").endStrategy()
                    .withNewTemplate()
                        .withNewMetadata().withLabels(labels).endMetadata()
                        .withNewSpec()
                            .withAutomountServiceAccountToken(false)
                            .withEnableServiceLinks(false)
                            .withSecurityContext(podSecurity())
                            .withContainers(container(user))
                            .withVolumes(dataVolume(user))
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

    public Service service(UserKey user, Deployment owner) {
        return new ServiceBuilder()
                .withMetadata(owned(user, owner))
                .withNewSpec()
                    .withSelector(Map.of(PlaygroundLabels.USER, user.key(),
                            PlaygroundLabels.COMPONENT, PlaygroundLabels.COMPONENT_DATABASE))
                    .addNewPort().withName("mysql").withPort(db.port())
                        .withNewTargetPort(db.port()).withProtocol("TCP").endPort()
                .endSpec()
                .build();
    }

    public boolean usesVolumeClaim() {
        return db.storage().kind() == StorageKind.PERSISTENT_VOLUME_CLAIM;
    }

    public PersistentVolumeClaim volumeClaim(UserKey user, Deployment owner) {
        String storageClass = db.storage().storageClass();
        return new PersistentVolumeClaimBuilder()
                .withMetadata(owned(user, owner))
                .withNewSpec()
                    .withAccessModes("ReadWriteOnce")
                    .withStorageClassName(storageClass == null || storageClass.isBlank() ? null : storageClass)
                    .withNewResources().addToRequests("storage", new Quantity(db.storage().size())).endResources()
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

    public static boolean isReady(Deployment d) {
        return d != null && d.getStatus() != null && d.getStatus().getReadyReplicas() != null
                && d.getStatus().getReadyReplicas() >= 1;
    }

    private ObjectMeta meta(UserKey user) {
        return new ObjectMetaBuilder()
                .withName(user.resourceName())
                .withLabels(PlaygroundLabels.database(user))
                .withAnnotations(Map.of(PlaygroundLabels.USER_ID, user.userId()))
                .build();
    }

    private ObjectMeta owned(UserKey user, HasMetadata owner) {
        OwnerReference ref = new OwnerReferenceBuilder()
                .withApiVersion(owner.getApiVersion() == null ? "apps/v1" : owner.getApiVersion())
                .withKind(owner.getKind() == null ? "Deployment" : owner.getKind())
                .withName(owner.getMetadata().getName())
                .withUid(owner.getMetadata().getUid())
                .withController(true)
                .build();
        ObjectMeta meta = meta(user);
        meta.setOwnerReferences(List.of(ref));
        return meta;
    }

    private Container container(UserKey user) {
        ContainerBuilder c = new ContainerBuilder()
                .withName(CONTAINER)
                .withImage(db.image())
                .addNewEnv().withName("MYSQL_ROOT_PASSWORD").withNewValueFrom().withNewSecretKeyRef()
                    .withName(user.resourceName()).withKey(PASSWORD_KEY).endSecretKeyRef().endValueFrom().endEnv()
                .addNewEnv().withName("MYSQL_PORT").withValue(Integer.toString(db.port())).endEnv()
                .addNewPort().withName("mysql").withContainerPort(db.port()).withProtocol("TCP").endPort()
                // Log in with the user's own password: Ready means "SQLFlow can connect with what create_db returns".
                .withNewReadinessProbe()
                    .withNewExec().withCommand("sh", "-c",
                            "mysql -h127.0.0.1 -P\"$MYSQL_PORT\" -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e 'select 1' >/dev/null 2>&1")
                    .endExec()
                    .withPeriodSeconds(2).withTimeoutSeconds(5).withFailureThreshold(3)
                .endReadinessProbe()
                .withNewResources()
                    .addToRequests("cpu", new Quantity(db.resources().cpuRequest()))
                    .addToRequests("memory", new Quantity(db.resources().memoryRequest()))
                    .addToLimits("cpu", new Quantity(db.resources().cpuLimit()))
                    .addToLimits("memory", new Quantity(db.resources().memoryLimit()))
                .endResources()
                .withSecurityContext(containerSecurity())
                .addNewVolumeMount().withName(DATA_VOLUME).withMountPath("/var/lib/mysql").endVolumeMount();
        if (db.entrypoint() == PlaygroundProperties.Entrypoint.SQLFLOW_START_SCRIPT) {
            c.withCommand("/bin/bash", "-c", ENTRYPOINT);
        }
        return c.build();
    }

    private io.fabric8.kubernetes.api.model.PodSecurityContext podSecurity() {
        PodSecurityContextBuilder b = new PodSecurityContextBuilder()
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile();
        if (db.runAsUser() != null) {
            b.withRunAsNonRoot(true).withRunAsUser(db.runAsUser()).withRunAsGroup(db.runAsUser())
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
            b.withNewCapabilities().withDrop("ALL").withAdd("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID")
                    .endCapabilities();
        }
        return b.build();
    }

    private Volume dataVolume(UserKey user) {
        VolumeBuilder v = new VolumeBuilder().withName(DATA_VOLUME);
        if (usesVolumeClaim()) {
            return v.withNewPersistentVolumeClaim().withClaimName(user.resourceName()).endPersistentVolumeClaim().build();
        }
        return v.withNewEmptyDir().withSizeLimit(new Quantity(db.storage().size())).endEmptyDir().build();
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
