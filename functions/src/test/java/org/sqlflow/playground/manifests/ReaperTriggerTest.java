package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The CronJob that triggers the reaper: what it calls, how often, and that its Job ends under the mesh. */
@RendersManifests
class ReaperTriggerTest {

    private static Deployment repository;

    @BeforeAll
    static void load() {
        repository = Deployment.ofRepository();
    }

    private static CronJob cronJob(Deployment d) {
        return d.get(CronJob.class, ManifestChecks.REAPER_CRONJOB);
    }

    private static Container trigger(Deployment d) {
        return cronJob(d)
                .getSpec()
                .getJobTemplate()
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0);
    }

    private static ObjectMeta podMetadata(Deployment d) {
        return cronJob(d).getSpec().getJobTemplate().getSpec().getTemplate().getMetadata();
    }

    private static Map<String, String> podAnnotations(Deployment d) {
        return podMetadata(d).getAnnotations();
    }

    private static void replaceInScript(Deployment d, String from, String to) {
        Container c = trigger(d);
        List<String> command = new ArrayList<>();
        c.getCommand().forEach(part -> command.add(part.replace(from, to)));
        c.setCommand(command);
    }

    @Test
    void theRepositoryCronJobPasses() {
        assertThat(ManifestChecks.reaperCronJob(repository)).isEmpty();
    }

    @Test
    void itCallsTheReapersInClusterAddress() {
        assertThat(Deployment.env(trigger(repository), "REAPER_URL").map(EnvVar::getValue))
                .contains("http://playground-reap-stale.sqlflow-playground.svc.cluster.local/api/reap_stale");
    }

    @Test
    void aWrongAddressFails() {
        Deployment d = broken();
        Deployment.env(trigger(d), "REAPER_URL")
                .orElseThrow()
                .setValue("http://playground-reap-stale.default.svc.cluster.local/api/reap_stale");
        assertThat(ManifestChecks.reaperCronJob(d))
                .anyMatch(p -> p.contains("must call http://playground-reap-stale.sqlflow-playground"));
    }

    @Test
    void anAddressThatNoLongerNamesTheReaperServiceFails() {
        Deployment d = broken();
        d.get(Service.class, "playground-reap-stale").getMetadata().setName("playground-reaper-v2");
        assertThat(ManifestChecks.reaperCronJob(d)).anyMatch(p -> p.contains("must call http://playground-reaper-v2."));
    }

    @Test
    void aGetInsteadOfPostFails() {
        Deployment d = broken();
        replaceInScript(d, "-X POST", "-X GET");
        assertThat(ManifestChecks.reaperCronJob(d)).anyMatch(p -> p.contains("with POST"));
    }

    @Test
    void scheduleConcurrencyAndHistoryAreChecked() {
        Deployment d = broken();
        CronJobSpec spec = cronJob(d).getSpec();
        spec.setSchedule("0 * * * *");
        spec.setConcurrencyPolicy("Allow");
        spec.setStartingDeadlineSeconds(null);
        spec.setFailedJobsHistoryLimit(10);
        assertThat(ManifestChecks.reaperCronJob(d))
                .anyMatch(p -> p.contains("must run on schedule */5 * * * *"))
                .anyMatch(p -> p.contains("concurrencyPolicy Forbid"))
                .anyMatch(p -> p.contains("startingDeadlineSeconds"))
                .anyMatch(p -> p.contains("HistoryLimit"));
    }

    @Test
    void anotherServiceAccountFails() {
        Deployment d = broken();
        cronJob(d).getSpec().getJobTemplate().getSpec().getTemplate().getSpec().setServiceAccountName("default");
        assertThat(ManifestChecks.reaperCronJob(d))
                .anyMatch(p -> p.contains("must run as service account playground-reaper"));
    }

    // Completion under the mesh: every layer of the sidecar solution is checked.

    @Test
    void withoutANativeSidecarTheCheckFails() {
        Deployment d = broken();
        Map<String, String> annotations = new HashMap<>(podAnnotations(d));
        annotations.remove("sidecar.istio.io/nativeSidecar");
        podMetadata(d).setAnnotations(annotations);
        assertThat(ManifestChecks.reaperCronJob(d)).anyMatch(p -> p.contains("native Istio sidecar"));
    }

    @Test
    void withoutTheQuitquitquitFallbackTheCheckFails() {
        Deployment d = broken();
        replaceInScript(d, "trap ", "# no trap ");
        assertThat(ManifestChecks.reaperCronJob(d)).anyMatch(p -> p.contains("quitquitquit"));
    }

    @Test
    void optingOutOfTheMeshFails() {
        Deployment d = broken();
        Map<String, String> annotations = new HashMap<>(podAnnotations(d));
        annotations.put("sidecar.istio.io/inject", "false");
        podMetadata(d).setAnnotations(annotations);
        assertThat(ManifestChecks.reaperCronJob(d)).anyMatch(p -> p.contains("must not opt out of the mesh"));
    }

    @Test
    void aJobWithoutDeadlineOrWithOneBeyondThePeriodFails() {
        Deployment d = broken();
        cronJob(d).getSpec().getJobTemplate().getSpec().setActiveDeadlineSeconds(null);
        assertThat(ManifestChecks.reaperCronJob(d)).anyMatch(p -> p.contains("activeDeadlineSeconds"));
        Deployment e = broken();
        cronJob(e).getSpec().getJobTemplate().getSpec().setActiveDeadlineSeconds(600L);
        assertThat(ManifestChecks.reaperCronJob(e)).anyMatch(p -> p.contains("activeDeadlineSeconds"));
    }

    @Test
    void aCurlThatGivesUpBeforeTheReaperFails() {
        Deployment d = broken();
        replaceInScript(d, "--max-time 270", "--max-time 60");
        assertThat(ManifestChecks.reaperCronJob(d))
                .anyMatch(p -> p.contains("gives up before the reaper's timeoutSeconds"));
    }

    private static Deployment broken() {
        return repository.copy();
    }
}
