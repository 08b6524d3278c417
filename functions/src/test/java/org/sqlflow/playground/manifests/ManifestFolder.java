package org.sqlflow.playground.manifests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * One folder of deployment manifests ({@code knative/} or {@code istio/}) as read from the repository:
 * its kustomization, the YAML files beside it, and every document of those files parsed by fabric8
 * into its typed model.
 */
record ManifestFolder(Path dir, Kustomization kustomization, Set<String> yamlFiles, List<Doc> docs) {

  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final ObjectMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One YAML document: where it came from and what fabric8 made of it. */
  record Doc(String file, int index, String apiVersion, String kind, KubernetesResource resource) {
    String where() {
      return file + "#" + index + " (" + kind + ")";
    }
  }

  /** The parts of a kustomization.yaml the checks read. */
  record Kustomization(String namespace, List<String> resources, List<String> imageNames) {}

  /** The repository's manifest folder {@code name}, located from the functions module directory. */
  static ManifestFolder ofRepository(String name) {
    Path moduleDir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    return load(moduleDir.resolve("..").resolve(name).normalize());
  }

  static ManifestFolder load(Path dir) {
    try {
      Kustomization kustomization = parseKustomization(Files.readString(dir.resolve("kustomization.yaml")));
      Set<String> yamlFiles = new TreeSet<>();
      try (Stream<Path> files = Files.list(dir)) {
        files.filter(Files::isRegularFile)
            .map(p -> p.getFileName().toString())
            .filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
            .filter(n -> !n.equals("kustomization.yaml"))
            .forEach(yamlFiles::add);
      }
      List<Doc> docs = new ArrayList<>();
      for (String file : yamlFiles) {
        docs.addAll(parseDocuments(file, Files.readString(dir.resolve(file))));
      }
      return new ManifestFolder(dir, kustomization, yamlFiles, List.copyOf(docs));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Kustomization parseKustomization(String yaml) throws IOException {
    JsonNode root = YAML.readTree(yaml);
    List<String> resources = new ArrayList<>();
    root.path("resources").forEach(n -> resources.add(n.asText()));
    List<String> images = new ArrayList<>();
    root.path("images").forEach(n -> images.add(n.path("name").asText()));
    return new Kustomization(root.path("namespace").asText(null), resources, images);
  }

  /** Every non-empty YAML document of a file, each unmarshalled by fabric8 into its registered type. */
  static List<Doc> parseDocuments(String file, String yaml) throws IOException {
    List<Doc> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
      int index = 0;
      while (it.hasNext()) {
        JsonNode node = it.next();
        if (node == null || node.isNull() || node.isMissingNode() || node.isEmpty()) {
          continue;
        }
        KubernetesResource resource = SERIALIZATION.unmarshal(JSON.writeValueAsString(node));
        docs.add(new Doc(file, index++, node.path("apiVersion").asText(), node.path("kind").asText(), resource));
      }
    }
    return docs;
  }
}
