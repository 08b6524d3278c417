package org.sqlflow.playground.reaper;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlflow.playground.cluster.DatabaseRoot;
import org.sqlflow.playground.cluster.PlaygroundLabels;
import org.sqlflow.playground.cluster.UserKey;

/** The Kubernetes Event that records each deletion: what an operator sees with kubectl get events. */
final class ReapedEvent {

    private static final Logger log = LoggerFactory.getLogger(Reaper.class);

    private ReapedEvent() {}

    static void record(
            KubernetesClient client, String namespace, Instant now, DatabaseRoot root, UserKey user, String why) {
        String at = now.toString();
        Event event = new EventBuilder()
                .withNewMetadata()
                .withName(root.name() + "." + Long.toHexString(now.toEpochMilli())
                        + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000)))
                .withNamespace(namespace)
                .withLabels(PlaygroundLabels.common("reaper"))
                .endMetadata()
                .withNewInvolvedObject()
                .withApiVersion("apps/v1")
                .withKind("Deployment")
                .withNamespace(namespace)
                .withName(root.name())
                .withUid(root.uid())
                .withResourceVersion(root.resourceVersion())
                .endInvolvedObject()
                .withReason(Reaper.EVENT_REASON)
                .withType("Normal")
                .withMessage("Deleted the database of user " + user.userId() + " (key " + user.key() + "): " + why)
                .withFirstTimestamp(at)
                .withLastTimestamp(at)
                .withCount(1)
                .withNewSource()
                .withComponent(Reaper.COMPONENT)
                .endSource()
                .withReportingComponent(Reaper.COMPONENT)
                .build();
        try {
            client.v1().events().inNamespace(namespace).resource(event).create();
        } catch (RuntimeException e) {
            // The deletion happened; the log is the audit trail of last resort.
            log.warn("could not record the Event for reaping {}: {}", root.name(), Tally.describe(e));
        }
    }
}
