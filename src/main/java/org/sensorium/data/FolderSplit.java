package org.sensorium.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.sensorium.config.ConfigException;
import org.sensorium.data.FolderManifest.Options;

/**
 * The train/test split of a folder's samples beyond the one --split gives them all: held-out test subjects
 * (checked to exist, so a typo fails instead of testing on nothing) and the seeded stratified draw for train.
 */
final class FolderSplit {
    private FolderSplit() {}

    /** @throws ConfigException when a test subject names no sample */
    static void checkTestSubjects(Options options, Set<String> subjects) {
        for (String s : new TreeSet<>(options.testSubjects())) {
            if (!subjects.contains(s)) {
                throw new ConfigException("--test-subjects", "no sample has subject '" + s + "' (subjects found: "
                        + (subjects.isEmpty() ? "none" : String.join(", ", subjects)) + ")");
            }
        }
    }

    /**
     * The stratified split: per label, the samples in id order are shuffled (Fisher-Yates, seeded with splitSeed
     * and the label's String hash, so adding a class does not reshuffle the others) and the first
     * round(fraction x n), clamped to [1, n - 1] for n &gt;= 2, go to train. Test subjects stay in test.
     */
    static void stratify(List<ObjectNode> samples, Options options, Map<String, Integer> splits) {
        Map<String, List<ObjectNode>> byLabel = new TreeMap<>();
        for (ObjectNode s : samples) {
            boolean heldSubject = s.has("subject") && options.testSubjects().contains(s.get("subject").asText());
            if (!heldSubject) {
                byLabel.computeIfAbsent(s.has("label") ? s.get("label").asText() : "", k -> new ArrayList<>()).add(s);
            }
        }
        for (Map.Entry<String, List<ObjectNode>> g : byLabel.entrySet()) {
            List<ObjectNode> group = new ArrayList<>(g.getValue());
            java.util.SplittableRandom r = new java.util.SplittableRandom(options.splitSeed() * 31 + g.getKey().hashCode());
            for (int i = group.size() - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                group.set(i, group.set(j, group.get(i)));
            }
            int n = group.size();
            int train = n < 2 ? (int) Math.round(options.trainFraction() * n)
                    : Math.max(1, Math.min(n - 1, (int) Math.round(options.trainFraction() * n)));
            for (int i = 0; i < train; i++) {
                splits.merge(group.get(i).get("split").asText(), -1, Integer::sum);
                group.get(i).put("split", "train");
                splits.merge("train", 1, Integer::sum);
            }
        }
    }
}
