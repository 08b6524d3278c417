package org.sqlflow.playground.manifests;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One folder of deployment manifests ({@code knative/} or {@code istio/}) as `kubectl apply -k`
 * applies it: rendered by kustomize, every document parsed by fabric8 into its typed model, beside
 * the namespace its kustomization.yaml sets.
 */
record ManifestFolder(Path dir, String namespace, List<Doc> docs) {

    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---[ \\t]*$");

    /** One YAML document: where it came from and what fabric8 made of it. */
    record Doc(String file, int index, String apiVersion, String kind, KubernetesResource resource) {
        String where() {
            String name = resource instanceof HasMetadata m && m.getMetadata() != null
                    ? " " + m.getMetadata().getName()
                    : "";
            return file + "#" + index + " (" + kind + name + ")";
        }
    }

    /** The repository's manifest folder {@code name}, located from the functions module directory. */
    static ManifestFolder ofRepository(String name) {
        return render(repositoryDir(name));
    }

    static Path repositoryDir(String name) {
        Path moduleDir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        return moduleDir.resolve("..").resolve(name).normalize();
    }

    static ManifestFolder render(Path dir) {
        try {
            Object namespace = yamlMap(dir.resolve("kustomization.yaml")).get("namespace");
            return new ManifestFolder(
                    dir, (String) namespace, parseDocuments(dir.getFileName() + "/", Kustomize.build(dir)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every YAML file under {@code dir} that no kustomization reached from {@code dir}'s own uses (as a
     * resource, base or patch), and every file a kustomization names that is not there: a file that
     * `kubectl apply -k` would silently leave out, or a reference it would fail on. The one folder applied on its
     * own ({@link #SEPARATELY_APPLIED}) is not part of its parent's deployment; PromtoolTest checks its files.
     */
    /**
     * The alert rules for the Prometheus operator, `kubectl apply -k knative/monitoring/`: its PrometheusRule kind is
     * unknown to a cluster without the operator, so knative/'s own kustomization must not include it.
     */
    static final Path SEPARATELY_APPLIED = Path.of("knative", "monitoring");

    static List<String> unusedOrMissingFiles(Path dir) {
        try {
            Set<Path> used = new TreeSet<>();
            List<String> problems = new ArrayList<>();
            collectUsed(dir, dir, used, problems);
            try (Stream<Path> files = Files.walk(dir)) {
                files.filter(Files::isRegularFile)
                        .filter(p ->
                                p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                        .filter(p -> !used.contains(p.normalize()))
                        .filter(p -> !p.normalize()
                                .startsWith(
                                        dir.resolveSibling(SEPARATELY_APPLIED).normalize()))
                        .forEach(p -> problems.add(dir.relativize(p) + " is used by no kustomization.yaml reached from "
                                + dir.getFileName() + "/"));
            }
            return problems;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void collectUsed(Path root, Path dir, Set<Path> used, List<String> problems) throws IOException {
        Path kustomization = dir.resolve("kustomization.yaml").normalize();
        if (!used.add(kustomization)) {
            return;
        }
        Map<String, Object> fields = yamlMap(kustomization);
        List<String> files = new ArrayList<>();
        list(fields, "resources").forEach(n -> files.add(String.valueOf(n)));
        list(fields, "patchesStrategicMerge").forEach(n -> files.add(String.valueOf(n)));
        list(fields, "patchesJson6902").forEach(n -> files.add(String.valueOf(((Map<?, ?>) n).get("path"))));
        for (String file : files) {
            Path p = dir.resolve(file).normalize();
            if (!Files.isRegularFile(p)) {
                problems.add(root.relativize(kustomization) + " names " + file + ", which is not a file");
            }
            used.add(p);
        }
        for (Object base : list(fields, "bases")) {
            Path b = dir.resolve(String.valueOf(base)).normalize();
            if (!Files.isRegularFile(b.resolve("kustomization.yaml"))) {
                problems.add(root.relativize(kustomization) + " names the base " + base
                        + ", which has no kustomization.yaml");
            } else {
                collectUsed(root, b, used, problems);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yamlMap(Path file) throws IOException {
        return SERIALIZATION.unmarshal(Files.readString(file), Map.class);
    }

    private static List<?> list(Map<String, Object> map, String key) {
        return map.get(key) instanceof List<?> l ? l : List.of();
    }

    /** Every YAML document of a text that holds more than comments, unmarshalled by fabric8 into its registered type. */
    static List<Doc> parseDocuments(String file, String yaml) {
        List<Doc> docs = new ArrayList<>();
        int index = 0;
        for (String text : DOCUMENT_SEPARATOR.split(yaml)) {
            if (text.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
                continue;
            }
            KubernetesResource resource = SERIALIZATION.unmarshal(text);
            HasMetadata typed = (HasMetadata) resource;
            docs.add(new Doc(file, index++, typed.getApiVersion(), typed.getKind(), resource));
        }
        return docs;
    }
}
