package org.sensorium.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Config;

/**
 * What {@code sensorium bench train} prints: the measurements, the ratios (to the PyTorch peer's samples/s and to the
 * matmul peak, with the targets of the small presets), and the per-phase profile as shares of a step.
 */
public final class TrainReport {
    /** Samples/s over the peer's that the tiny and small presets should reach at 2 threads (DESIGN: benchmarks). */
    static final Map<String, Double> PEER_TARGET = Map.of("tiny", 1.5, "small", 2.0);
    /** Share of the matmul peak the small preset should reach. */
    static final Map<String, Double> PEAK_TARGET = Map.of("small", 0.65);

    private TrainReport() {}

    /** The ratio rows: of the matmul peak, and against the peer when it ran. */
    public static List<BenchTable.Row> rows(Config cfg, TrainBench.Result r, TorchPeer.Outcome peer) {
        String size = cfg.model().size();
        List<BenchTable.Row> rows = new ArrayList<>();
        rows.add(new BenchTable.Row("model FLOP/s / fp32 matmul peak", r.gflops() / r.peakGflops(), true,
                PEAK_TARGET.getOrDefault(size, Double.NaN), false,
                String.format("%.1f of %.1f GFLOP/s", r.gflops(), r.peakGflops())));
        if (peer != null && peer.ran()) {
            double theirs = r.samples() / TrainBench.Stats.quantile(peer.stepSeconds(), 0.5);
            rows.add(new BenchTable.Row("samples/s / PyTorch-eager peer", r.samplesPerSecond() / theirs, false,
                    PEER_TARGET.getOrDefault(size, Double.NaN), false,
                    String.format("%.1f vs %.1f samples/s (torch %s)", r.samplesPerSecond(), theirs, peer.torch())));
        }
        return rows;
    }

    /** The whole printout. */
    public static String render(Config cfg, TrainBench.Result r, TrainBench.Options o, TorchPeer.Outcome peer) {
        Config.Model m = cfg.model();
        Config.Train t = cfg.train();
        TrainFlops.Count f = r.flops();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("bench train: preset %s (width %d, depth %d, heads %d, embed %d), %,d parameters, modalities %s%n",
                m.size(), m.width(), m.depth(), m.heads(), m.embedDim(), r.params(), cfg.activeModalities()));
        sb.append(String.format("  batch %d = %d micro-batches of %d; libtorch threads %d; %d timed steps after %d warm-up%n",
                t.batchSize(), t.accumulate(), t.microBatch(), r.threads(), o.steps(), o.warmup()));
        sb.append(String.format("%-22s median %.4f s, p10-p90 %.4f-%.4f s%n", "step time",
                r.median(), TrainBench.Stats.quantile(r.stepSeconds(), 0.1), TrainBench.Stats.quantile(r.stepSeconds(), 0.9)));
        sb.append(String.format("%-22s %.1f%n", "samples/s", r.samplesPerSecond()));
        sb.append(String.format("%-22s %.3f GFLOP (3 x forward x %d micro-batches; forward of one, GFLOP: stems %.3f, attention"
                + " projections %.3f, attention scores %.3f, MLP %.3f, heads %.3f, losses %.4f)%n", "model FLOPs per step",
                f.step() / 1e9, t.accumulate(), f.stems() / 1e9, f.attentionProjections() / 1e9, f.attentionScores() / 1e9,
                f.mlp() / 1e9, f.heads() / 1e9, f.losses() / 1e9));
        sb.append(String.format("%-22s %.1f GFLOP/s%n", "achieved", r.gflops()));
        sb.append(String.format("%-22s %.1f GFLOP/s (median of %d fp32 %d^3 matmuls, this libtorch, threads %d)%n", "matmul peak",
                r.peakGflops(), r.peakSeconds().size(), TrainBench.PEAK_SIDE, r.threads()));
        sb.append(String.format("%-22s %.1f GFLOP/s (the same matmuls in float16; bfloat16 cannot be tried: DJL 0.36 aborts on the cast)%n",
                "fp16 matmul", r.halfPeakGflops()));
        if (peer == null) {
            sb.append(String.format("%-22s not run (--no-peer)%n", "PyTorch peer"));
        } else if (!peer.ran()) {
            sb.append(String.format("%-22s not run: %s%n", "PyTorch peer", peer.why()));
        } else {
            List<Double> s = peer.stepSeconds();
            double med = TrainBench.Stats.quantile(s, 0.5);
            sb.append(String.format("%-22s torch %s (%s): median %.4f s, p10-p90 %.4f-%.4f s, %.1f samples/s%n", "PyTorch peer",
                    peer.torch(), peer.python(), med, TrainBench.Stats.quantile(s, 0.1), TrainBench.Stats.quantile(s, 0.9),
                    r.samples() / med));
            if (!peer.peakSeconds().isEmpty()) { // its BLAS bounds its step: a low peak explains a slow peer
                sb.append(String.format("%-22s %.1f GFLOP/s (median of %d fp32 %d^3 matmuls in the peer's torch)%n", "peer matmul peak",
                        2.0 * TrainBench.PEAK_SIDE * TrainBench.PEAK_SIDE * TrainBench.PEAK_SIDE
                                / TrainBench.Stats.quantile(peer.peakSeconds(), 0.5) / 1e9, peer.peakSeconds().size(), TrainBench.PEAK_SIDE));
            }
        }
        sb.append(System.lineSeparator()).append(BenchTable.format(rows(cfg, r, peer))).append(System.lineSeparator());
        if (!r.phases().isEmpty()) {
            sb.append(System.lineSeparator()).append(profile(r, o));
        }
        return sb.toString().stripTrailing();
    }

    /** The profile table: mean milliseconds per step and share of the profiled step, per phase. */
    static String profile(TrainBench.Result r, TrainBench.Options o) {
        double total = r.phases().stream().mapToDouble(TrainBench.Phase::seconds).sum();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("profile of %d more steps (median %.4f s; the timed median %.4f s):%n", o.profileSteps(),
                r.profiledStep(), r.median()));
        sb.append(String.format("  %-36s %10s %7s%n", "phase", "ms/step", "share"));
        for (TrainBench.Phase p : r.phases()) {
            sb.append(String.format("  %-36s %10.1f %6.1f%%%n", p.name(), 1e3 * p.seconds(), 100 * p.seconds() / total));
        }
        return sb.toString();
    }
}
