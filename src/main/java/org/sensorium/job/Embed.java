package org.sensorium.job;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import me.tongfei.progressbar.ProgressBar;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigException;
import org.sensorium.config.Modality;
import org.sensorium.data.Batch;
import org.sensorium.data.Loader;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.ManifestException;
import org.sensorium.eval.Retrieval;
import org.sensorium.eval.TemporalSegmentation;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.Clip;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.SkipLog;
import org.sensorium.modality.Spans;
import org.sensorium.modality.text.TextAdapter;
import org.sensorium.model.SensoriumModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sensorium embed}: a trained run's unit embeddings (E) of recordings (files, or a manifest's samples) and of
 * literal texts, one row per (input, modality, clip) in an {@link EmbeddingFile}. Recordings are decoded as the run's
 * held-out evaluation decodes them: the same adapters, {@link Loader#decodeAll} of evaluation clip k of n
 * ({@link Loader#evalClip}: n = 1 is the centred clip) and {@link Retrieval#embed} in batches of eval.batch_size, or
 * with n above 1 {@link Retrieval#embedClips}, the clips' mean; or every clip that tiles the recording
 * ({@link TemporalSegmentation#tiling}), each a row with its start. Texts go through the run's text tower as
 * zero-shot prompts do ({@link TextAdapter#sample}). A broken input is skipped and named (--strict: an error).
 */
public final class Embed {
    private static final Logger LOG = LoggerFactory.getLogger(Embed.class);

    private Embed() {}

    /**
     * @param checkpoint a run folder (its newest checkpoint) or a checkpoint folder
     * @param files recordings, one input each (video, audio, subtitle or IMU files)
     * @param texts literal texts, one input each
     * @param manifest a manifest whose samples are inputs, or null
     * @param split with a manifest: only this split ({@link EmbedInputs#HELD_OUT}: all but train); null: every line
     * @param modalities the modalities to embed; empty: every modality the run trained
     * @param clips "all", or how many evenly spaced clips are averaged (1: the centred clip); null: the run's eval.clips
     * @param out *.npy for NumPy, "-" for JSONL on standard output, any other name for JSONL; null:
     *     RUN/embeddings/step-N-&lt;time&gt;.jsonl
     * @param sets --set overrides of the run's config (eval.batch_size, data.loader_threads, run.strict)
     */
    public record Options(Path checkpoint, List<Path> files, List<String> texts, Path manifest, String split,
            List<Modality> modalities, String clips, Path out, List<String> sets) {}

    /**
     * @param out the file written (null: standard output); index the NPY's index file, else null
     * @param inputs files, manifest samples and texts asked for
     * @param embedded inputs with at least one row
     * @param rows rows written per modality
     * @param lacking manifest samples with none of the modalities embedded (neither embedded nor broken)
     * @param seconds wall time of decoding, encoding and writing (the model's loading left out)
     * @param skipped broken inputs by id, with the reason
     */
    public record Result(Path out, Path index, Path checkpoint, int step, String clips, int inputs, int embedded,
            Map<Modality, Integer> rows, int lacking, double seconds, Map<String, String> skipped) {
        /** Inputs embedded per second of {@link #seconds}. */
        public double samplesPerSecond() {
            return embedded / seconds;
        }
    }

    /** Evaluation's n evenly spaced clips, averaged (n = 1: the centred clip), or every clip tiling the recording (all). */
    record Clips(int count, boolean all) {
        static Clips parse(String s, int evalClips) {
            if (s == null) {
                return new Clips(evalClips, false);
            }
            if (s.equals("all")) {
                return new Clips(0, true);
            }
            try {
                int n = Integer.parseInt(s);
                if (n >= 1) {
                    return new Clips(n, false);
                }
            } catch (NumberFormatException e) {
                // the message below
            }
            throw new ConfigException("--clips", "'" + s + "' is neither 'all' nor a count of clips >= 1");
        }

        @Override
        public String toString() {
            return all ? "all" : count == 1 ? "centred" : count + " averaged";
        }
    }

    /**
     * Embeds every input and writes the rows.
     *
     * @throws ConfigException (exit code 2) for bad options, naming the option
     * @throws ManifestException (exit code 2) for a bad manifest line, or when nothing could be embedded
     * @throws SkipLog.StrictSkipException at the first broken input under --strict
     */
    public static Result run(Options o) throws IOException, InterruptedException {
        if (o.files().isEmpty() && o.texts().isEmpty() && o.manifest() == null) {
            throw new ConfigException("embed", "nothing to embed: give files, --text or --manifest");
        }
        if (o.split() != null && o.manifest() == null) {
            throw new ConfigException("--split", "needs --manifest");
        }
        if (o.out() != null && Files.isDirectory(o.out())) {
            throw new ConfigException("--out", o.out() + " is a folder: name the file (.jsonl or .npy)");
        }
        TrainedRun run = TrainedRun.open(o.checkpoint(), o.sets());
        Config cfg = run.config();
        Set<Modality> wanted = wanted(o.modalities(), cfg);
        if (!o.texts().isEmpty() && !wanted.contains(Modality.TEXT)) {
            throw new ConfigException("--text", "text is not among the modalities embedded " + keys(wanted));
        }
        Clips clips = Clips.parse(o.clips(), cfg.eval().clips());
        SkipLog skips = new SkipLog(cfg.run().strict());
        Inputs in = inputs(o, cfg, wanted, skips);
        Path out = o.out() != null ? o.out() : run.runDir().resolve("embeddings").resolve(String.format("step-%07d-%s.jsonl",
                run.step(), LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))));
        Map<Modality, ModalityAdapter> adapters = new EnumMap<>(Modality.class);
        try {
            for (Modality m : wanted) { // only those some input has: the text tower takes a second to load
                if (m == Modality.TEXT && !o.texts().isEmpty() || in.entries().stream().anyMatch(e -> e.has(m))) {
                    adapters.put(m, Adapters.create(m, cfg.modalities(), cfg.data().clipSeconds()));
                }
            }
            LOG.info("embedding {} with {} (step {}): {}, clips: {}", in, run.checkpoint(), run.step(), keys(adapters.keySet()), clips);
            try (NDManager root = NDManager.newBaseManager();
                    TrainedRun.Loaded loaded = run.load(root, false, false); // objective parameters are not needed
                    EmbeddingFile file = EmbeddingFile.open(out);
                    ProgressBar bar = in.count() > cfg.eval().batchSize() ? Pretrain.progressBar("embed", in.count(), 0, " inputs") : null) {
                Pass pass = new Pass(cfg, loaded.model(), root, adapters, skips, file, bar, in.count());
                long t0 = System.nanoTime();
                pass.progress(in.count() - in.entries().size() - o.texts().size()); // files skipped already, samples lacking
                pass.recordings(in.entries(), clips);
                pass.texts(o.texts());
                double seconds = (System.nanoTime() - t0) / 1e9;
                Map<String, String> skipped = inOrder(skips.reasons(), in.ids());
                if (file.rows() == 0) {
                    throw new ManifestException(nothing(in, skipped));
                }
                Path written = file.commit();
                return new Result(written, file.index(), run.checkpoint(), run.step(), clips.toString(), in.count(), pass.embedded,
                        pass.rows, in.lacking(), seconds, skipped);
            }
        } finally {
            adapters.values().forEach(ModalityAdapter::close);
        }
    }

    /**
     * The recordings to decode: the files that can be (the others are skipped already) and the manifest's samples that
     * have a modality asked for; files, samples and texts count the inputs of each kind asked for.
     *
     * @param ids every file and sample in the order given, for a report in that order
     * @param lacking manifest samples with none of the modalities asked for
     */
    private record Inputs(List<ManifestEntry> entries, List<String> ids, int files, int samples, int texts, int lacking) {
        /** Every input asked for. */
        int count() {
            return files + samples + texts;
        }

        @Override
        public String toString() {
            return count() + " inputs (" + files + " files, " + samples + " manifest samples, " + texts + " texts)";
        }
    }

    private static Inputs inputs(Options o, Config cfg, Set<Modality> wanted, SkipLog skips) throws IOException {
        List<ManifestEntry> entries = new ArrayList<>(EmbedInputs.files(o.files(), wanted, skips));
        List<ManifestEntry> samples = o.manifest() == null ? List.of() : EmbedInputs.manifest(o.manifest(), o.split(), cfg.data());
        List<String> ids = new ArrayList<>(o.files().stream().map(Path::toString).toList());
        samples.forEach(e -> ids.add(e.id()));
        int lacking = 0;
        for (ManifestEntry e : samples) {
            if (wanted.stream().anyMatch(e::has)) {
                entries.add(e);
            } else {
                lacking++;
            }
        }
        return new Inputs(entries, ids, o.files().size(), samples.size(), o.texts().size(), lacking);
    }

    /** The modalities asked for (each must be one the run trained), or every modality the run trained. */
    private static Set<Modality> wanted(List<Modality> asked, Config cfg) {
        Set<Modality> trained = EnumSet.copyOf(cfg.activeModalities());
        if (asked.isEmpty()) {
            return trained;
        }
        for (Modality m : asked) {
            if (!trained.contains(m)) {
                throw new ConfigException("--modality", m.key() + " is not one the run trained (data.modalities " + keys(trained) + ")");
            }
        }
        return EnumSet.copyOf(asked);
    }

    /** The skips in the order the inputs were given (decoding threads meet them in any order). */
    private static Map<String, String> inOrder(Map<String, String> reasons, List<String> ids) {
        Map<String, String> out = new LinkedHashMap<>();
        ids.forEach(id -> {
            if (reasons.containsKey(id)) {
                out.put(id, reasons.get(id));
            }
        });
        out.putAll(reasons); // none left, unless ids repeat
        return out;
    }

    private static String nothing(Inputs in, Map<String, String> why) {
        String first = why.isEmpty() ? "" : " (first: " + why.values().iterator().next() + ")";
        return "nothing embedded: of " + in.count() + " inputs " + why.size() + " were skipped" + first
                + (in.lacking() > 0 ? " and " + in.lacking() + " manifest samples have none of the modalities asked for" : "");
    }

    private static List<String> keys(Set<Modality> ms) {
        return ms.stream().map(Modality::key).toList();
    }

    /** One embedding pass: decodes, encodes and writes, counting what it wrote. */
    private static final class Pass {
        private final Config cfg;
        private final SensoriumModel model;
        private final NDManager root;
        private final Map<Modality, ModalityAdapter> adapters;
        private final SkipLog skips;
        private final EmbeddingFile file;
        private final ProgressBar bar;
        private final int batch;
        private final int total;
        private int done;
        private long logged = System.nanoTime();
        final Map<Modality, Integer> rows = new EnumMap<>(Modality.class);
        int embedded;

        Pass(Config cfg, SensoriumModel model, NDManager root, Map<Modality, ModalityAdapter> adapters, SkipLog skips,
                EmbeddingFile file, ProgressBar bar, int total) {
            this.cfg = cfg;
            this.model = model;
            this.root = root;
            this.adapters = adapters;
            this.skips = skips;
            this.file = file;
            this.bar = bar;
            this.batch = cfg.eval().batchSize();
            this.total = total;
        }

        /** Literal texts, batch by batch; each text is its own id. */
        void texts(List<String> texts) throws IOException {
            for (int from = 0; from < texts.size(); from += batch) {
                List<String> part = texts.subList(from, Math.min(texts.size(), from + batch));
                TextAdapter text = (TextAdapter) adapters.get(Modality.TEXT);
                List<Batch.Decoded> decoded = EvalSamples.texts(text, part);
                float[][] e = encode(decoded).rows().get(Modality.TEXT);
                for (int i = 0; i < part.size(); i++) {
                    write(part.get(i), Modality.TEXT, Double.NaN, e[i]);
                }
                embedded += part.size();
                progress(part.size());
            }
        }

        /** Recordings, eval.batch_size at a time, as the clips option says. */
        void recordings(List<ManifestEntry> entries, Clips clips) throws IOException, InterruptedException {
            if (clips.all()) {
                new Tiles(this).run(entries);
                return;
            }
            double seconds = cfg.data().clipSeconds();
            int threads = cfg.data().loaderThreads();
            long seed = cfg.run().seed();
            for (int from = 0; from < entries.size(); from += batch) {
                List<ManifestEntry> part = entries.subList(from, Math.min(entries.size(), from + batch));
                Map<Modality, ModalityAdapter> used = used(part);
                if (clips.count() == 1) { // what held-out retrieval decodes (HeldOutSamples.evalClips)
                    List<Batch.Decoded> decoded = Loader.decodeAll(part, used, seconds, 0, 1, threads, seed, skips);
                    write(decoded, encode(decoded));
                } else {
                    Retrieval.Embeddings e = Retrieval.embedClips(model, part, used, seconds, clips.count(), threads, seed, batch, skips, root);
                    for (int i = 0; i < e.ids().size(); i++) {
                        write(e.ids().get(i), e.rows(), i, Double.NaN);
                    }
                    embedded += e.ids().size();
                }
                progress(part.size());
            }
        }

        /** The adapters of the modalities some entry has: the others need no forward pass. */
        Map<Modality, ModalityAdapter> used(List<ManifestEntry> entries) {
            Map<Modality, ModalityAdapter> used = new EnumMap<>(Modality.class);
            adapters.forEach((m, a) -> {
                if (entries.stream().anyMatch(e -> e.has(m))) {
                    used.put(m, a);
                }
            });
            return used;
        }

        /** Unit embeddings of decoded samples, every modality any of them has, in batches of eval.batch_size. */
        Retrieval.Embeddings encode(List<Batch.Decoded> decoded) {
            Map<Modality, long[]> shapes = new EnumMap<>(Modality.class);
            for (Batch.Decoded d : decoded) {
                d.items().keySet().forEach(m -> shapes.putIfAbsent(m, adapters.get(m).inputShape()));
            }
            return Retrieval.embed(model, decoded, shapes, batch, root);
        }

        /** Each decoded sample's rows, with its clip's start: one input each. */
        void write(List<Batch.Decoded> decoded, Retrieval.Embeddings e) throws IOException {
            for (int i = 0; i < decoded.size(); i++) {
                write(decoded.get(i).entry().id(), e.rows(), i, decoded.get(i).start());
            }
            embedded += decoded.size();
        }

        /** Row i of every modality that has one, in the modalities' order. */
        void write(String id, Map<Modality, float[][]> rows, int i, double start) throws IOException {
            for (Map.Entry<Modality, float[][]> r : rows.entrySet()) {
                if (r.getValue()[i] != null) {
                    write(id, r.getKey(), start, r.getValue()[i]);
                }
            }
        }

        void write(String id, Modality m, double start, float[] row) throws IOException {
            file.write(id, m, start, row);
            rows.merge(m, 1, Integer::sum);
        }

        /** Advances the bar; without a console, a log line at most every 10 s. */
        void progress(int inputs) {
            done += inputs;
            if (bar != null) {
                bar.stepBy(inputs);
            } else if (System.nanoTime() - logged > 10e9) {
                LOG.info("{} / {} inputs", done, total);
                logged = System.nanoTime();
            }
        }
    }

    /**
     * --clips all: every recording cut into the evaluation clips that tile it. Recordings are taken a batch of clips
     * at a time (a long one in several pieces, so its decoded clips never sit in memory at once); a recording's rows
     * are held until its last piece is done, so that a broken clip leaves out the whole recording, as a broken
     * sample is left out elsewhere.
     */
    private static final class Tiles {
        private final Pass pass;
        private final List<ManifestEntry> group = new ArrayList<>();
        private final List<List<Clip>> groupClips = new ArrayList<>();
        private final List<Boolean> groupLast = new ArrayList<>();
        private final List<Batch.Decoded> held = new ArrayList<>(); // the current recording's clips decoded so far
        private final List<Map<Modality, float[]>> heldRows = new ArrayList<>();
        private boolean broken;
        private int clipsInGroup;

        Tiles(Pass pass) {
            this.pass = pass;
        }

        void run(List<ManifestEntry> entries) throws IOException, InterruptedException {
            double seconds = pass.cfg.data().clipSeconds();
            for (int i = 0; i < entries.size(); i++) {
                ManifestEntry e = entries.get(i);
                List<Clip> all = TemporalSegmentation.tiling(Spans.seconds(e.recording()), seconds, Loader.mix(pass.cfg.run().seed(), -1, i));
                for (int from = 0; from < all.size(); from += pass.batch) {
                    int to = Math.min(all.size(), from + pass.batch);
                    group.add(e);
                    groupClips.add(all.subList(from, to));
                    groupLast.add(to == all.size());
                    clipsInGroup += to - from;
                    if (clipsInGroup >= pass.batch) {
                        flush();
                    }
                }
            }
            flush();
        }

        /** Decodes and encodes the group's pieces; writes each recording whose last piece is among them. */
        private void flush() throws IOException, InterruptedException {
            if (group.isEmpty()) {
                return;
            }
            List<List<Batch.Decoded>> decoded = TemporalSegmentation.decodeClips(group, groupClips, pass.used(group),
                    pass.cfg.data().loaderThreads(), pass.skips);
            List<Batch.Decoded> flat = new ArrayList<>();
            decoded.stream().filter(d -> d != null).forEach(flat::addAll);
            Retrieval.Embeddings e = pass.encode(flat);
            int at = 0;
            for (int p = 0; p < group.size(); p++) {
                List<Batch.Decoded> piece = decoded.get(p);
                broken |= piece == null;
                for (int c = 0; piece != null && c < piece.size(); c++, at++) {
                    held.add(piece.get(c));
                    heldRows.add(row(e, at));
                }
                if (groupLast.get(p)) {
                    finish();
                }
            }
            group.clear();
            groupClips.clear();
            groupLast.clear();
            clipsInGroup = 0;
        }

        /** Row at of every modality that has one, in the modalities' order. */
        private static Map<Modality, float[]> row(Retrieval.Embeddings e, int at) {
            Map<Modality, float[]> row = new EnumMap<>(Modality.class);
            e.rows().forEach((m, r) -> {
                if (r[at] != null) {
                    row.put(m, r[at]);
                }
            });
            return row;
        }

        /** The current recording is done: its rows are written unless a clip was broken. */
        private void finish() throws IOException {
            if (!broken && !held.isEmpty()) {
                for (int c = 0; c < held.size(); c++) {
                    Batch.Decoded d = held.get(c);
                    for (Map.Entry<Modality, float[]> r : heldRows.get(c).entrySet()) {
                        pass.write(d.entry().id(), r.getKey(), d.start(), r.getValue());
                    }
                }
                pass.embedded++;
            }
            pass.progress(1);
            held.clear();
            heldRows.clear();
            broken = false;
        }
    }
}
