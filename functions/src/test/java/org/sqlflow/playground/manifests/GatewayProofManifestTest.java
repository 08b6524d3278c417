package org.sqlflow.playground.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRoute;
import io.fabric8.istio.api.api.networking.v1alpha3.Headers;
import io.fabric8.istio.api.api.networking.v1alpha3.HeadersHeaderOperations;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.knative.serving.v1.Service;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's proof in the manifests: every public route strips a client's copy of both headers
 * and sets both, nothing else writes them, the committed files hold only the placeholder, each
 * function mounts its own proof Secret, and the install step (istio/gateway-proof) fills in the
 * value, makes the Secrets and rotates them.
 */
class GatewayProofManifestTest {

    private static final Path ROOT = Path.of(System.getProperty("basedir", "."))
            .toAbsolutePath()
            .resolve("..")
            .normalize();

    /** Rendered when a test asks: the install step and the scan of committed files need no kustomize. */
    private static Deployment repository() {
        return Deployment.ofRepository();
    }

    private static HTTPRoute route(Deployment d, String name) {
        return d.get(VirtualService.class, "playground-public-api").getSpec().getHttp().stream()
                .filter(r -> name.equals(r.getName()))
                .findFirst()
                .orElseThrow();
    }

    private static HeadersHeaderOperations ops(Deployment d, String route) {
        return route(d, route).getHeaders().getRequest();
    }

    @Test
    void theRepositoryPassesTheProofChecks() {
        assertThat(ManifestChecks.identityHeader(repository())).isEmpty();
        assertThat(ManifestChecks.proofMounts(repository())).isEmpty();
    }

    @Test
    void everyPublicRouteStripsThenSetsBothHeaders() {
        for (String name : List.of("create-db", "heart-beat")) {
            HeadersHeaderOperations ops = ops(repository(), name);
            assertThat(ops.getRemove()).contains(ManifestChecks.IDENTITY_HEADER, ManifestChecks.PROOF_HEADER);
            assertThat(ops.getSet())
                    .containsEntry(ManifestChecks.IDENTITY_HEADER, ManifestChecks.PEER_SUBJECT)
                    .containsEntry(ManifestChecks.PROOF_HEADER, ManifestChecks.PROOF_PLACEHOLDER);
        }
    }

    @Test
    void aRouteThatKeepsTheClientsProofOrDoesNotSetItFails() {
        Deployment d = repository().copy();
        ops(d, "heart-beat").getRemove().remove(ManifestChecks.PROOF_HEADER);
        assertThat(ManifestChecks.identityHeader(d))
                .anyMatch(p -> p.contains("route heart-beat must remove a client's x-playground-gateway-proof"));
        Deployment e = repository().copy();
        ops(e, "create-db").getSet().remove(ManifestChecks.PROOF_HEADER);
        assertThat(ManifestChecks.identityHeader(e))
                .anyMatch(p -> p.contains("route create-db must set x-playground-gateway-proof"));
        Deployment f = repository().copy();
        ops(f, "create-db").getAdd().put(ManifestChecks.PROOF_HEADER, "x");
        assertThat(ManifestChecks.identityHeader(f))
                .anyMatch(p -> p.contains("must not add (append to) x-playground-gateway-proof"));
    }

    @Test
    void aValueInsteadOfThePlaceholderFails() {
        Deployment d = repository().copy();
        ops(d, "create-db").getSet().put(ManifestChecks.PROOF_HEADER, "tY1kq0S3mJ2p8d7HfV9wZ4xLr6NcB5aE2uQoXgKjWvM");
        assertThat(ManifestChecks.identityHeader(d)).anyMatch(p -> p.contains("must hold the placeholder"));
    }

    @Test
    void nothingElseWritesEitherHeader() {
        Deployment d = repository().copy();
        HTTPRoute r = route(d, "heart-beat");
        r.getRoute()
                .get(0)
                .setHeaders(new Headers(
                        new HeadersHeaderOperations(Map.of(), List.of(), Map.of(ManifestChecks.PROOF_HEADER, "x")),
                        null));
        assertThat(ManifestChecks.identityHeader(d))
                .anyMatch(p -> p.contains("writes x-playground-gateway-proof again at destination level"));
        Deployment e = repository().copy();
        VirtualService mesh = e.get(VirtualService.class, "playground-public-api");
        mesh.getSpec().setGateways(new ArrayList<>(List.of("mesh")));
        assertThat(ManifestChecks.identityHeader(e))
                .anyMatch(p -> p.contains("is no public gateway route and must not write x-playground-client-subject"))
                .anyMatch(p -> p.contains("must not write x-playground-gateway-proof"));
    }

    @Test
    void eachFunctionMountsItsOwnProofAndNoOther() {
        Deployment d = repository().copy();
        d.get(Service.class, "playground-reap-stale")
                .getSpec()
                .getTemplate()
                .getSpec()
                .getVolumes()
                .get(0)
                .getSecret()
                .setSecretName(ManifestChecks.GATEWAY_PROOF_SECRET);
        assertThat(ManifestChecks.proofMounts(d))
                .anyMatch(p -> p.contains("playground-reap-stale must mount Secret playground-reaper-proof"));
        Deployment e = repository().copy();
        Container heartBeat = Deployment.container(e.get(Service.class, "playground-heart-beat"));
        heartBeat.getEnv().removeIf(v -> v.getName().equals(ManifestChecks.PROOF_DIRECTORY_ENV));
        assertThat(ManifestChecks.proofMounts(e))
                .anyMatch(p -> p.contains("playground-heart-beat must set PLAYGROUND_IDENTITY_PROOF_DIRECTORY"));
        Deployment f = repository().copy();
        Deployment.env(
                        Deployment.container(f.get(Service.class, "playground-create-db")),
                        ManifestChecks.PROOF_DIRECTORY_ENV)
                .ifPresent(v -> v.setValue("/elsewhere"));
        assertThat(ManifestChecks.proofMounts(f)).anyMatch(p -> p.contains("mounts nothing at /elsewhere"));
    }

    @Test
    void theCronJobSendsTheReapersProofOffTheCommandLine() {
        Deployment d = repository().copy();
        Container trigger = d.get(CronJob.class, ManifestChecks.REAPER_CRONJOB)
                .getSpec()
                .getJobTemplate()
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0);
        List<String> command = new ArrayList<>(trigger.getCommand());
        command.set(
                command.size() - 1,
                command.get(command.size() - 1)
                        .replace("curl -sS", "curl -H \"x-playground-gateway-proof: $proof\" -sS"));
        trigger.setCommand(command);
        assertThat(ManifestChecks.proofMounts(d))
                .anyMatch(p -> p.contains("must not pass the proof on curl's command line"));
        Deployment e = repository().copy();
        e.get(CronJob.class, ManifestChecks.REAPER_CRONJOB)
                .getSpec()
                .getJobTemplate()
                .getSpec()
                .getTemplate()
                .getSpec()
                .getVolumes()
                .get(0)
                .getSecret()
                .setSecretName(ManifestChecks.GATEWAY_PROOF_SECRET);
        assertThat(ManifestChecks.proofMounts(e))
                .anyMatch(p -> p.contains("CronJob playground-reaper must mount Secret playground-reaper-proof"));
    }

    @Test
    void theNamespaceEnforcesBaselineAndWarnsAtRestricted() {
        Deployment d = repository().copy();
        d.all(Namespace.class).get(0).getMetadata().getLabels().remove("pod-security.kubernetes.io/enforce");
        assertThat(ManifestChecks.namespaces(d)).anyMatch(p -> p.contains("must enforce Pod Security baseline"));
        Deployment e = repository().copy();
        e.all(Namespace.class).get(0).getMetadata().getLabels().put("pod-security.kubernetes.io/warn", "baseline");
        assertThat(ManifestChecks.namespaces(e)).anyMatch(p -> p.contains("must warn at Pod Security restricted"));
    }

    /**
     * No committed file holds a proof value: wherever the proof header is given a value, it is the
     * placeholder or a shell or format variable, and no Secret of the proof is committed.
     */
    @Test
    void committedFilesHoldOnlyThePlaceholder() throws IOException {
        Pattern assignment = Pattern.compile(ManifestChecks.PROOF_HEADER + "\"?\\s*:\\s*\"?([^\"\\s\\\\]+)");
        List<String> offending = new ArrayList<>();
        int seen = 0;
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path file : (Iterable<Path>)
                    files.filter(Files::isRegularFile).filter(GatewayProofManifestTest::committed)::iterator) {
                String text;
                try {
                    text = Files.readString(file, StandardCharsets.UTF_8);
                } catch (java.nio.charset.MalformedInputException e) {
                    continue;
                }
                Matcher m = assignment.matcher(text);
                while (m.find()) {
                    seen++;
                    String value = m.group(1);
                    boolean allowed = value.equals(ManifestChecks.PROOF_PLACEHOLDER)
                            || value.startsWith("$")
                            || value.startsWith("%")
                            || value.equals("VALUE")
                            || value.startsWith("<");
                    if (!allowed) {
                        offending.add(ROOT.relativize(file) + ": " + value);
                    }
                }
                if (text.contains("name: " + ManifestChecks.GATEWAY_PROOF_SECRET) && text.contains("kind: Secret")
                        || text.contains("name: " + ManifestChecks.REAPER_PROOF_SECRET)
                                && text.contains("kind: Secret")) {
                    offending.add(ROOT.relativize(file) + ": a proof Secret");
                }
            }
        }
        assertThat(seen).as("the scan found the VirtualService's proof lines").isGreaterThanOrEqualTo(2);
        assertThat(offending).isEmpty();
    }

    private static boolean committed(Path file) {
        Path rel = ROOT.relativize(file);
        String first = rel.getName(0).toString();
        return !first.equals(".git")
                && !rel.toString().contains("/target/")
                && !first.equals("target")
                && !rel.toString().endsWith(".jar")
                && !first.startsWith("playground-");
    }

    // The install step

    private static String run(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(
                List.of("bash", ROOT.resolve("istio/gateway-proof").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(false)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        if (code != 0) {
            throw new IllegalStateException("exit " + code + ": " + err);
        }
        return out;
    }

    private static Map<String, Secret> secrets(String yaml) throws IOException {
        Map<String, Secret> byName = new HashMap<>();
        for (ManifestFolder.Doc doc : ManifestFolder.parseDocuments("secrets", yaml)) {
            Secret s = (Secret) doc.resource();
            byName.put(s.getMetadata().getName(), s);
        }
        return byName;
    }

    private static String decoded(Secret s, String key) {
        String v = s.getData().get(key);
        return v == null ? null : new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
    }

    @Test
    void theInstallStepFillsInTheValueAndRotates(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("proof");
        run(tmp, "init", dir.toString());
        String gateway = Files.readString(dir.resolve("gateway/current")).strip();
        String reaper = Files.readString(dir.resolve("reaper/current")).strip();
        assertThat(gateway).matches("[A-Za-z0-9_-]{43}").isNotEqualTo(reaper);
        assertThat(Files.getPosixFilePermissions(dir.resolve("gateway/current")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        Map<String, Secret> secrets = secrets(run(tmp, "secrets", dir.toString()));
        assertThat(decoded(secrets.get(ManifestChecks.GATEWAY_PROOF_SECRET), "current"))
                .isEqualTo(gateway);
        assertThat(decoded(secrets.get(ManifestChecks.REAPER_PROOF_SECRET), "current"))
                .isEqualTo(reaper);
        assertThat(secrets.get(ManifestChecks.GATEWAY_PROOF_SECRET)
                        .getMetadata()
                        .getNamespace())
                .isEqualTo("sqlflow-playground");

        String vsYaml = run(tmp, "virtualservice", dir.toString());
        VirtualService vs = (VirtualService)
                ManifestFolder.parseDocuments("vs", vsYaml).get(0).resource();
        assertThat(vs.getMetadata().getNamespace()).isEqualTo("sqlflow-playground");
        assertThat(vsYaml).doesNotContain(ManifestChecks.PROOF_PLACEHOLDER).doesNotContain(reaper);
        for (HTTPRoute r : vs.getSpec().getHttp()) {
            assertThat(r.getHeaders().getRequest().getSet()).containsEntry(ManifestChecks.PROOF_HEADER, gateway);
        }
        // Apart from the value, it is the committed VirtualService: the same routes, the same checks.
        Deployment repository = repository();
        List<io.fabric8.kubernetes.api.model.KubernetesResource> others =
                new ArrayList<>(repository.copy().resources());
        others.removeIf(x -> x instanceof VirtualService);
        others.add(vs);
        Deployment installed = new Deployment(repository.knativeNamespace(), repository.istioNamespace(), others);
        assertThat(ManifestChecks.identityHeader(installed))
                .hasSize(ManifestChecks.PUBLIC_FUNCTIONS.size())
                .allMatch(p -> p.contains("must hold the placeholder"));

        // Rotation: next appears in the Secret, the VirtualService may switch to it, then it becomes current.
        run(tmp, "rotate-begin", dir.toString(), "gateway");
        String next = Files.readString(dir.resolve("gateway/next")).strip();
        secrets = secrets(run(tmp, "secrets", dir.toString()));
        assertThat(decoded(secrets.get(ManifestChecks.GATEWAY_PROOF_SECRET), "current"))
                .isEqualTo(gateway);
        assertThat(decoded(secrets.get(ManifestChecks.GATEWAY_PROOF_SECRET), "next"))
                .isEqualTo(next);
        assertThat(decoded(secrets.get(ManifestChecks.REAPER_PROOF_SECRET), "next"))
                .isNull();
        assertThat(run(tmp, "virtualservice", dir.toString(), "--use", "next"))
                .contains(next)
                .doesNotContain(gateway);
        run(tmp, "rotate-finish", dir.toString(), "gateway");
        secrets = secrets(run(tmp, "secrets", dir.toString()));
        assertThat(decoded(secrets.get(ManifestChecks.GATEWAY_PROOF_SECRET), "current"))
                .isEqualTo(next);
        assertThat(decoded(secrets.get(ManifestChecks.GATEWAY_PROOF_SECRET), "next"))
                .isNull();
        assertThat(run(tmp, "virtualservice", dir.toString())).contains(next).doesNotContain(gateway);
    }

    @Test
    void theInstallStepNeverOverwritesAProof(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("proof");
        run(tmp, "init", dir.toString());
        String before = Files.readString(dir.resolve("gateway/current"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> run(tmp, "init", dir.toString()))
                .hasMessageContaining("refusing to overwrite");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> run(tmp, "rotate-finish", dir.toString(), "gateway"))
                .hasMessageContaining("next is missing");
        assertThat(Files.readString(dir.resolve("gateway/current"))).isEqualTo(before);
    }
}
