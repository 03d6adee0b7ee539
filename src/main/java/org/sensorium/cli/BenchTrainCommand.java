package org.sensorium.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.sensorium.bench.BenchTable;
import org.sensorium.bench.TorchPeer;
import org.sensorium.bench.TraceTop;
import org.sensorium.bench.TrainBench;
import org.sensorium.bench.TrainReport;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.config.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `sensorium bench train`: the training step on synthetic inputs against the matmul peak and the PyTorch peer. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Time the pretraining step on synthetic inputs of the config's shapes (no decoding): step time, samples/s,",
            "model FLOPs against the fp32 matmul peak of the same libtorch, a per-phase profile, and the PyTorch-eager peer",
            "on the same shapes when a python3 with torch is found ($SENSORIUM_PYTHON, /usr/bin/python3, python3)."})
final class BenchTrainCommand implements Callable<Integer> {
    @Option(names = "--preset", paramLabel = "tiny|small|base", description = "model preset (model.size; default: the config's)")
    String preset;

    @Option(names = "--batch", paramLabel = "N", description = "samples per step (train.batch_size; default: the config's)")
    Integer batch;

    @Option(names = "--accumulate", paramLabel = "K", description = "micro-batches per step (train.accumulate; default: the config's)")
    Integer accumulate;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "0",
            description = "libtorch threads, for us and the peer (default: as the JVM started, i.e. $SENSORIUM_THREADS or the physical cores)")
    int threads;

    @Option(names = "--steps", defaultValue = "20", description = "timed steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", defaultValue = "3", description = "untimed steps first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--profile-steps", defaultValue = "5", description = "steps of the per-phase profile, 0 = none (default ${DEFAULT-VALUE})")
    int profileSteps;

    @Option(names = "--peak-reps", defaultValue = "20", description = "timed 1024^3 matmuls of the peak (default ${DEFAULT-VALUE})")
    int peakReps;

    @Option(names = "--peer", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "run the PyTorch-eager peer on the same shapes (default: on; --no-peer: off)")
    boolean peer;

    @Option(names = "--out", description = "also write the ratio rows, every step time and the profile as JSON to this file")
    Path out;

    @Option(names = "--trace", paramLabel = "FILE", description = "also write libtorch's profiler trace of 3 more steps (Chrome trace JSON: chrome://tracing, Perfetto)")
    Path trace;

    @CommandLine.Mixin
    Main.Common common = new Main.Common();

    @Override
    public Integer call() throws Exception {
        List<String> sets = new ArrayList<>();
        if (preset != null) {
            sets.add("model.size=" + preset);
        }
        if (batch != null) {
            sets.add("train.batch_size=" + batch);
        }
        if (accumulate != null) {
            sets.add("train.accumulate=" + accumulate);
        }
        sets.addAll(common.allSets()); // --set last: it overrides
        Config cfg = ConfigLoader.load(common.config, sets).config();
        TrainBench.Options o = new TrainBench.Options(steps, warmup, threads, profileSteps, peakReps, trace);
        TrainBench.Result r = TrainBench.run(cfg, o);
        TorchPeer.Outcome p = null;
        if (peer) {
            String python = TorchPeer.python();
            p = python == null ? new TorchPeer.Outcome(null, null, List.of(), List.of(), "no python3 with torch (set SENSORIUM_PYTHON)")
                    : TorchPeer.run(python, cfg, r, o);
        }
        System.out.println(TrainReport.render(cfg, r, o, p));
        if (trace != null) {
            System.out.println(TraceTop.render(TraceTop.read(trace, TrainBench.TRACE_STEPS), 15, 1000 * r.tracedStepSeconds()));
            System.out.println("trace: " + trace);
        }
        if (out != null) {
            Map<String, Object> json = new LinkedHashMap<>(Json.MAPPER.readValue(BenchTable.json(TrainReport.rows(cfg, r, p)), Map.class));
            json.put("step_s", r.stepSeconds());
            json.put("peer_step_s", p == null ? List.of() : p.stepSeconds());
            json.put("peak_matmul_s", r.peakSeconds());
            json.put("fp16_matmul_s", r.halfPeakSeconds());
            Map<String, Double> phases = new LinkedHashMap<>();
            r.phases().forEach(x -> phases.put(x.name(), x.seconds()));
            json.put("phases_s", phases);
            json.put("model_flops_per_step", r.flops().step());
            Json.write(out, json);
        }
        return 0;
    }
}
