package org.sensorium.data;

import static org.sensorium.modality.BadInputException.excerpt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;

/**
 * Pseudo-labels written by {@code sensorium cluster} and read by the pseudo-label objective: JSONL whose
 * first line is a header, then one line per clustered sample.
 * <pre>
 *   {"format": "sensorium-pseudo-labels-v1", "modality": "audio", "k": 32, ...summary: checkpoint, step, inertia, sizes, nmi}
 *   {"id": "s00000", "cluster": 17}
 * </pre>
 *
 * @param header the first line (format, modality, k, then what the clustering reported)
 * @param modality the modality whose embeddings were clustered
 * @param k number of clusters; every cluster is in [0, k)
 * @param clusters cluster of each sample id
 */
public record PseudoLabelFile(Map<String, Object> header, Modality modality, int k, Map<String, Integer> clusters) {
    public static final String FORMAT = "sensorium-pseudo-labels-v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Writes the file (under a temporary name, then renamed).
     *
     * @param summary more header keys after format, modality and k
     * @param ids clustered sample ids; clusters[i] is ids[i]'s cluster, in [0, k)
     */
    public static void write(Path file, Modality modality, int k, Map<String, Object> summary, List<String> ids, int[] clusters)
            throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("format", FORMAT);
        header.put("modality", modality.key());
        header.put("k", k);
        header.putAll(summary);
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve(file.getFileName() + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            w.write(JSON.writeValueAsString(header));
            w.newLine();
            for (int i = 0; i < ids.size(); i++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", ids.get(i));
                row.put("cluster", clusters[i]);
                w.write(JSON.writeValueAsString(row));
                w.newLine();
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Reads and checks a file.
     *
     * @param key the config key or option that named the file; every error is a {@link ConfigException} on it
     */
    public static PseudoLabelFile read(Path file, String key) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(key, file + ": no such file (write one with `sensorium cluster`)");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(key, file + ": cannot read: " + e.getMessage());
        }
        if (lines.isEmpty()) {
            throw new ConfigException(key, file + ": empty");
        }
        Map<String, Object> header;
        try {
            header = JSON.readValue(lines.get(0), new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (JsonProcessingException e) {
            throw new ConfigException(key, file + ":1: the header is not a JSON object");
        }
        if (!FORMAT.equals(header.get("format"))) {
            throw new ConfigException(key, file + ":1: not a pseudo-label file (format is not " + FORMAT + ")");
        }
        if (!(header.get("k") instanceof Integer k) || k < 2) {
            throw new ConfigException(key, file + ":1: 'k' must be an integer >= 2");
        }
        Modality modality;
        try {
            modality = Modality.parse(String.valueOf(header.get("modality")));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, file + ":1: 'modality': " + e.getMessage());
        }
        Map<String, Integer> clusters = new LinkedHashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String where = file + ":" + (i + 1) + ": ";
            JsonNode row;
            try {
                row = JSON.readTree(lines.get(i));
            } catch (JsonProcessingException e) {
                throw new ConfigException(key, where + "not valid JSON");
            }
            JsonNode id = row.get("id"), cluster = row.get("cluster");
            if (id == null || !id.isTextual() || cluster == null || !cluster.isInt()) {
                throw new ConfigException(key, where + "expected {\"id\": string, \"cluster\": integer}");
            }
            if (cluster.asInt() < 0 || cluster.asInt() >= k) {
                throw new ConfigException(key, where + "cluster " + cluster.asInt() + " is not in [0, " + k + ")");
            }
            if (clusters.put(id.asText(), cluster.asInt()) != null) {
                throw new ConfigException(key, where + "duplicate id '" + excerpt(id.asText(), 40) + "'");
            }
        }
        return new PseudoLabelFile(header, modality, k, Map.copyOf(clusters));
    }

    /** SHA-256 of the file's bytes, hex: names the head trained on these labels. */
    public static String sha256(java.nio.file.Path file) {
        return Manifest.sha256(file);
    }
}
