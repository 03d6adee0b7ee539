package org.sensorium.job;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.sensorium.config.Config;
import org.sensorium.config.ConfigLoader;
import org.sensorium.model.SensoriumModel;
import org.sensorium.objective.Objective;
import org.sensorium.objective.ObjectiveKind;
import org.sensorium.train.Checkpoint;

/**
 * A trained run as the commands that read one (eval, finetune, qa, cluster) open it: its checkpoint folder, the
 * config it was trained with (plus --set overrides) and the step it was saved at. Opening and loading are two
 * steps because fine-tuning and QA check the config first and then load a fresh model per seed.
 *
 * @param checkpoint the checkpoint folder (RUN/checkpoints/step-N)
 * @param config the run's config.yaml, resolved with the --set overrides
 * @param step the step the checkpoint was saved at
 */
public record TrainedRun(Path checkpoint, Config config, int step) {

    /**
     * @param runOrCheckpoint a run folder (its newest complete checkpoint) or a checkpoint folder
     * @param sets --set overrides of the run's config
     * @throws org.sensorium.config.ConfigException naming --checkpoint when neither is found
     */
    public static TrainedRun open(Path runOrCheckpoint, List<String> sets) throws IOException {
        Path ckpt = Checkpoint.resolve(runOrCheckpoint, "--checkpoint");
        List<String> all = new java.util.ArrayList<>(List.of("model.drop_token=0")); // VATT drops tokens in pretraining only:
        all.addAll(sets);                                                               // fine-tuning sees every token
        Config cfg = ConfigLoader.loadResolved(ckpt.resolve("config.yaml"), all).config();
        return new TrainedRun(ckpt, cfg, Checkpoint.readState(ckpt).step());
    }

    /** The run folder of the checkpoint (RUN/checkpoints/step-N -> RUN). */
    public Path runDir() {
        return runDir(checkpoint);
    }

    /** The run folder of a checkpoint folder (RUN/checkpoints/step-N -> RUN). */
    public static Path runDir(Path checkpoint) {
        return checkpoint.toAbsolutePath().getParent().getParent();
    }

    /**
     * The run's model on manager, with the checkpoint's weights or, randomWeights, at the initial values the
     * run's seed gives (the numbers a train.steps=0 run of its config saves).
     *
     * @param withObjectives also build the objectives the config switches on and load their state: some add
     *     parameters of their own to the model (temporal_ot's prototypes) that a task reads; at random weights
     *     they keep their initial values too
     */
    public Loaded load(NDManager manager, boolean randomWeights, boolean withObjectives) throws IOException {
        SensoriumModel model = new SensoriumModel(config, manager);
        try {
            List<Objective.Weighted> objectives = withObjectives ? ObjectiveKind.enabled(config, model) : List.of();
            if (!randomWeights) {
                model.params().load(checkpoint.resolve("model.ndlist"));
                for (Objective.Weighted w : objectives) {
                    w.objective().load(checkpoint);
                }
            }
            return new Loaded(model, objectives);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** A loaded model and its objectives (empty unless asked for); closing frees the model's parameters. */
    public record Loaded(SensoriumModel model, List<Objective.Weighted> objectives) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }
}
