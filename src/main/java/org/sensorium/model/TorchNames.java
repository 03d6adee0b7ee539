package org.sensorium.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one place that says how Sensorium's parameter names become PyTorch module paths in an export
 * (model.safetensors), so that {@code model.load_state_dict(tensors)} of interop/sensorium_torch.py takes them
 * as they are. Shapes do not change: a linear weight is (out, in) on both sides, as torch.nn.Linear keeps it.
 *
 * <pre>
 *   Sensorium                         PyTorch                                shape
 *   trunk.{i}.norm1.gain / .bias      trunk.blocks.{i}.norm1.weight / .bias  (D)       LayerNorm gain is "weight"
 *   trunk.{i}.attn.qkv.weight, .bias  trunk.blocks.{i}.attn.qkv.weight, ...  (3D, D)   fused q, k, v rows in that order
 *   trunk.{i}.attn.proj.*             trunk.blocks.{i}.attn.proj.*           (D, D)
 *   trunk.{i}.norm2.*                 trunk.blocks.{i}.norm2.*               (D)
 *   trunk.{i}.mlp.fc1.*, mlp.fc2.*    trunk.blocks.{i}.mlp.fc1.*, fc2.*      (rD, D), (D, rD)
 *   trunk.norm.gain / .bias           trunk.norm.weight / .bias              (D)       the final LayerNorm
 *   stem.{m}.proj.*                   stems.{m}.proj.*                       (D, patch) video, motion, audio log-mel, imu
 *   stem.audio.wave.*                 stems.audio.proj.*                     (D, k)    raw-waveform audio stem
 *   stem.text.embedding               stems.text.embedding.weight            (V, D)    scratch text tower
 *   pos.{m}                           pos_embed.{m}                          (1, N, D)
 *   modality.{m}                      modality_embed.{m}                     (1, 1, D)
 *   cls.{m}                           cls_token.{m}                          (1, 1, D) model.pool = cls
 *   head.{m}.weight / .bias           heads.{m}.weight / .bias               (E, D), or (E, W) for a pretrained text tower
 *   pool.text.query                   text_pool.query                        (W, 1)    learned pooling of tower states
 *   logit_scale                       logit_scale                            ()        log of the scale, as CLIP keeps it
 * </pre>
 *
 * Objective parameters (objective.*: prototypes, prediction heads) are training state, not part of the encoder,
 * and are not exported.
 */
public final class TorchNames {
    private TorchNames() {}

    /** True when the parameter is part of an export (every encoder parameter; not an objective's). */
    public static boolean exported(String name) {
        return !Params.ofObjective(name);
    }

    /**
     * The PyTorch module path of a Sensorium parameter.
     *
     * @throws IllegalArgumentException for a name that is not an encoder parameter of {@link SensoriumModel}
     */
    public static String of(String name) {
        String[] p = name.split("\\.");
        String torch = switch (p[0]) {
            case "trunk" -> p.length >= 3 && p[1].chars().allMatch(Character::isDigit)
                    ? "trunk.blocks." + name.substring("trunk.".length()) : name;
            case "stem" -> stem(name, p);
            case "pos" -> "pos_embed." + tail(name, p, 2);
            case "modality" -> "modality_embed." + tail(name, p, 2);
            case "cls" -> "cls_token." + tail(name, p, 2);
            case "head" -> "heads." + tail(name, p, 3);
            case "pool" -> {
                if (!name.equals("pool.text.query")) {
                    throw unknown(name);
                }
                yield "text_pool.query";
            }
            case "logit_scale" -> tail(name, p, 1);
            default -> throw unknown(name);
        };
        return torch.endsWith(".gain") ? torch.substring(0, torch.length() - ".gain".length()) + ".weight" : torch;
    }

    /**
     * Sensorium's name -> PyTorch's, for every exported parameter of params, in the model's order.
     *
     * @throws IllegalArgumentException if two parameters would get the same PyTorch name
     */
    public static Map<String, String> of(Params params) {
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, String> seen = new LinkedHashMap<>();
        for (String name : params.all().keySet()) {
            if (!exported(name)) {
                continue;
            }
            String torch = of(name);
            String before = seen.put(torch, name);
            if (before != null) {
                throw new IllegalArgumentException(name + " and " + before + " both map to " + torch);
            }
            out.put(name, torch);
        }
        return out;
    }

    private static String stem(String name, String[] p) {
        if (name.equals("stem.text.embedding")) {
            return "stems.text.embedding.weight";
        }
        if (p.length == 4 && p[1].equals("audio") && p[2].equals("wave")) {
            return "stems.audio.proj." + p[3];
        }
        if (p.length == 4 && p[2].equals("proj")) {
            return "stems." + p[1] + ".proj." + p[3];
        }
        throw unknown(name);
    }

    /** The name without its first part, when it has exactly parts parts. */
    private static String tail(String name, String[] p, int parts) {
        if (p.length != parts) {
            throw unknown(name);
        }
        return parts == 1 ? name : name.substring(p[0].length() + 1);
    }

    private static IllegalArgumentException unknown(String name) {
        return new IllegalArgumentException("parameter " + name + " has no PyTorch name (not an encoder parameter)");
    }
}
