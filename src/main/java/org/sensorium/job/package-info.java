/**
 * What a command runs end to end: {@link org.sensorium.job.Pretrain} (the training loop, alone or as one rank of a
 * worker group), {@link org.sensorium.job.Ablate}, {@link org.sensorium.job.ClusterJob} (XDC's offline clustering
 * step), {@link org.sensorium.job.EvalJob} (a suite of tasks on frozen embeddings),
 * {@link org.sensorium.job.FineTune} (activity recognition) and {@link org.sensorium.job.VideoQa} (TVQA-style
 * multiple choice), {@link org.sensorium.job.Embed} (a run's embeddings of files, texts or a manifest, written as JSONL
 * or NPY), {@link org.sensorium.job.Export} (a checkpoint's encoder as safetensors + config.json + model card, for
 * PyTorch and others; {@link org.sensorium.job.Exported} reads one back); {@link org.sensorium.job.HeldOutSamples} decodes a
 * run's held-out split once for the measures; {@link org.sensorium.job.DuringEval} runs a suite every eval.every_steps
 * inside pretraining and keeps the best checkpoint (train.keep_best).
 *
 * <p>Imports: every floor below it: config, distributed, modality, data, model, eval, objective and train.
 *
 * <p>Shape letters (the model package's legend): b batch, n samples, E embedding, C classes, K answers of a QA
 * item (or texts in a bag), L text length, H the QA head's hidden width, T prompt templates (zero-shot).
 */
package org.sensorium.job;
