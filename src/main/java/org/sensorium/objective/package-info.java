/**
 * Training objectives: the {@link org.sensorium.objective.Objective} contract (what it needs decoded, the loss
 * terms of one {@link org.sensorium.objective.Step}, its own state and held-out measure on
 * {@link org.sensorium.objective.HeldOut} samples), {@link org.sensorium.objective.ObjectiveKind}, which builds the
 * ones a config switches on, and one class per objective: {@link org.sensorium.objective.Contrastive} (CLIP,
 * VATT's NCE), {@link org.sensorium.objective.MilNce} (MIL-NCE), {@link org.sensorium.objective.TwoView} (SimCLR,
 * CVRL), {@link org.sensorium.objective.RelativeSpeed} (RSPNet), {@link org.sensorium.objective.Clustering} (SwAV,
 * XDC online), {@link org.sensorium.objective.PseudoLabels} (XDC offline), {@link org.sensorium.objective.MaskedTokens}
 * (data2vec), {@link org.sensorium.objective.MaskedSegments} (LV-MAE), {@link org.sensorium.objective.TemporalOt}
 * (temporal OT, Kumar et al. 2022), {@link org.sensorium.objective.KeyframeContext} and
 * {@link org.sensorium.objective.MotionPrediction} (compressed video, after IMCN),
 * {@link org.sensorium.objective.DecoupledSceneMotion} (DSM) and {@link org.sensorium.objective.BackgroundErasing} (BE),
 * both on views built by VideoViews. {@link org.sensorium.objective.ProjectionHead} is SimCLR's head that
 * contrastive and two_view may read their loss through. Shared pieces:
 * {@link org.sensorium.objective.Sinkhorn}, {@link org.sensorium.objective.Masking},
 * {@link org.sensorium.objective.GlobalBatch} (contrastive negatives across a worker group),
 * {@link org.sensorium.objective.TeacherObjective} (the EMA teacher's lifecycle), TemporalCoherence and
 * ContextMeasures (the compressed-video objectives' held-out measures).
 *
 * <p>Imports: config, distributed, modality (the adapter vocabulary only), data, model and eval. An objective
 * declares its needs and reads batches; it never touches the loader, manifests or adapters (ArchitectureTest).
 * Nothing outside this package names an objective class: others see Objective, ObjectiveKind, Step and HeldOut.
 *
 * <p>Shape letters (the model package's legend): B batch, n samples of the batch that have what a term needs,
 * N tokens, D trunk width, Dd decoder width, E embedding, T frames (T' future frames), K prototypes or texts in a
 * bag, Q queued samples, S segments, G sequences of frames, F features of a position (Masking) or values of a
 * future motion field (MotionPrediction), w world size, r rank.
 */
package org.sensorium.objective;
