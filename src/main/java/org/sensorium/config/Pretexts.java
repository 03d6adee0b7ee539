package org.sensorium.config;

import java.util.List;
import org.sensorium.config.Config.Data;
import org.sensorium.config.Config.Model;
import org.sensorium.config.Objectives.Settings;

/**
 * The config records of the pretext objectives that learn from one modality's own signal (issue 20's methods): DeCLUTR's
 * text spans, motion and appearance statistics, pixel masked autoencoding, DSM and Background Erasing. They are
 * components of {@link Objectives} like the others (objectives.&lt;name&gt;.*), kept here so that file stays one
 * concern's length.
 */
public final class Pretexts {
    private Pretexts() {}

    /**
     * objectives.motion_statistics.*: Wang et al. 2019's motion and appearance statistics. Labels computed from the
     * clip itself (the region of largest motion in its motion field, the dominant direction there, the dominant hue
     * of that region in its frames) are classified from the clip's video tokens by heads of the objective's own.
     */
    public record MotionStatistics(float weight, int regions, int directions, int hues, float saturation) implements Settings {
        public MotionStatistics {
            if (weight < 0) {
                throw new ConfigException("objectives.motion_statistics.weight", weight + " must be >= 0");
            }
            if (regions < 1) {
                throw new ConfigException("objectives.motion_statistics.regions", regions + " must be >= 1");
            }
            if (directions < 2) {
                throw new ConfigException("objectives.motion_statistics.directions", directions + " must be >= 2");
            }
            if (hues < 2) {
                throw new ConfigException("objectives.motion_statistics.hues", hues + " must be >= 2");
            }
            if (!(saturation >= 0 && saturation < 1)) {
                throw new ConfigException("objectives.motion_statistics.saturation", saturation + " must be in [0, 1)");
            }
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            if (!data.modalities().contains(Modality.VIDEO) || !data.modalities().contains(Modality.MOTION)) {
                throw new ConfigException("objectives.motion_statistics.weight",
                        "needs video (the input) and motion (the labels) in data.modalities " + data.modalities());
            }
            if (modalities.motion().gridH() % regions != 0 || modalities.motion().gridW() % regions != 0) {
                throw new ConfigException("objectives.motion_statistics.regions", regions + " per side must divide the motion grid "
                        + modalities.motion().gridH() + " x " + modalities.motion().gridW());
            }
            int rows = modalities.video().height() / modalities.video().patch(), columns = modalities.video().width() / modalities.video().patch();
            if (rows % regions != 0 || columns % regions != 0) {
                throw new ConfigException("objectives.motion_statistics.regions", regions + " per side must divide the video's "
                        + rows + " x " + columns + " patches per frame");
            }
        }
    }

    /**
     * objectives.pixel_mae.*: SiamMAE / CropMAE pixel reconstruction. Of two tubelet slices of one clip, the first is
     * encoded whole and the second with only a few patches visible; a small decoder of the objective's own predicts
     * the masked patches' normalised pixels; CrossVideoMAE's InfoNCE between the two views' pooled visible tokens
     * at contrastive_weight. views: frames (SiamMAE: the two slices) or crops (CropMAE: two random crops of the first
     * slice, each resized to the frame).
     */
    public record PixelMae(float weight, double maskRatio, int gap, int decoderWidth, int decoderDepth, int decoderHeads,
            float contrastiveWeight, float temperature, String views) implements Settings {
        /** The values of views. */
        public static final List<String> VIEWS = List.of("frames", "crops");

        public PixelMae {
            if (weight < 0) {
                throw new ConfigException("objectives.pixel_mae.weight", weight + " must be >= 0");
            }
            Objectives.ratioInOpenUnit("objectives.pixel_mae.mask_ratio", maskRatio);
            if (gap < 0) {
                throw new ConfigException("objectives.pixel_mae.gap", gap + " must be >= 0 (0 = the clip's last slice)");
            }
            Objectives.decoder("objectives.pixel_mae", decoderWidth, decoderDepth, decoderHeads);
            if (contrastiveWeight < 0) {
                throw new ConfigException("objectives.pixel_mae.contrastive_weight", contrastiveWeight + " must be >= 0 (0 = off)");
            }
            Config.positive("objectives.pixel_mae.temperature", temperature);
            if (!VIEWS.contains(views)) {
                throw new ConfigException("objectives.pixel_mae.views", "'" + views + "' is not one of " + VIEWS);
            }
        }

        /** Whether the two views are crops of one slice (CropMAE), not two slices (SiamMAE). */
        public boolean crops() {
            return "crops".equals(views);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            Objectives.decoded("objectives.pixel_mae.weight", Modality.VIDEO, data.modalities());
        }
    }

    /**
     * objectives.declutr.*: DeCLUTR (Giorgi et al. 2021): an anchor span of a recording's text document against a
     * positive span overlapping, adjacent to or inside it, the batch's other documents' spans as negatives.
     */
    public record Declutr(float weight, int minWords, float temperature) implements Settings {
        public Declutr {
            if (weight < 0) {
                throw new ConfigException("objectives.declutr.weight", weight + " must be >= 0");
            }
            Config.positive("objectives.declutr.min_words", minWords);
            Config.positive("objectives.declutr.temperature", temperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            Objectives.decoded("objectives.declutr.weight", Modality.TEXT, data.modalities());
            if (modalities.text().isPretrained()) {
                throw new ConfigException("objectives.declutr.weight",
                        "DeCLUTR trains the text tower, and the pretrained one is frozen: set modalities.text.tower=scratch");
            }
            if (modalities.text().bag() != 1) {
                throw new ConfigException("objectives.declutr.weight",
                        "DeCLUTR embeds one span per sequence: set modalities.text.bag to 1 (it is " + modalities.text().bag() + ")");
            }
        }
    }

    /**
     * objectives.dsm.*: DSM, decoupling the scene and the motion: a clip blended with another clip's static frame is
     * its positive, the clip with its frames shuffled its negative (InfoNCE over the batch).
     */
    public record Dsm(float weight, float sceneBlend, float temperature) implements Settings {
        public Dsm {
            if (weight < 0) {
                throw new ConfigException("objectives.dsm.weight", weight + " must be >= 0");
            }
            if (!(sceneBlend > 0 && sceneBlend < 1)) {
                throw new ConfigException("objectives.dsm.scene_blend", sceneBlend + " must be in (0, 1)");
            }
            Config.positive("objectives.dsm.temperature", temperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            videoOfFrames("objectives.dsm.weight", data, modalities);
        }
    }

    /** objectives.background_erasing.own_negative: the copy of each clip added as a negative of every row, if any. */
    public enum OwnNegative {
        NONE, STILL, REVERSED;

        public static OwnNegative parse(String s) {
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "none" -> NONE;
                case "still" -> STILL;
                case "reversed" -> REVERSED;
                default -> throw new IllegalArgumentException("'" + s + "' is not none, still or reversed");
            };
        }
    }

    /**
     * objectives.background_erasing.*: a clip and the clip with one of its own frames blended in, a positive pair;
     * with ownJitter the erased copy gets brightness and contrast factors of its own (modalities.video.brightness and
     * contrast), so that the pair does not share every low-level statistic of the clip's augmentation; with
     * secondView the erased copy is made from the loader's second clip of the sample (BE on a two-view method);
     * ownNegative adds a copy of every clip as one more negative of every row: none, still (its random frame repeated
     * over its time: its scene and shape, no motion) or reversed (its frames in reverse order: the same scene and
     * shape, the motion backwards).
     */
    public record BackgroundErasing(float weight, float lambdaMax, float temperature, boolean ownJitter, boolean secondView,
            OwnNegative ownNegative)
            implements Settings {
        public BackgroundErasing {
            if (weight < 0) {
                throw new ConfigException("objectives.background_erasing.weight", weight + " must be >= 0");
            }
            if (!(lambdaMax > 0 && lambdaMax < 1)) {
                throw new ConfigException("objectives.background_erasing.lambda_max", lambdaMax + " must be in (0, 1)");
            }
            Config.positive("objectives.background_erasing.temperature", temperature);
        }

        @Override
        public void check(Data data, Model model, ModalitySpecs modalities) {
            videoOfFrames("objectives.background_erasing.weight", data, modalities);
        }
    }

    /** The scene/motion objectives need video clips of at least 2 frames (a static frame, an order to shuffle). */
    static void videoOfFrames(String key, Data data, ModalitySpecs modalities) {
        if (!data.modalities().contains(Modality.VIDEO)) {
            throw new ConfigException(key, "needs video in data.modalities " + data.modalities());
        }
        if (modalities.video().frames(data.clipSeconds()) < 2) {
            throw new ConfigException(key, "needs video clips of 2 frames or more (data.clip_seconds x modalities.video.fps)");
        }
    }
}
