/**
 * The Spark launcher: {@link org.sensorium.cli.spark.SparkGroup}, a spark-submit main class that runs pretraining
 * on a worker group as one barrier stage, and {@link org.sensorium.cli.spark.GroupTask}, one worker of it. A retried
 * stage resumes from the run's last checkpoint. Spark is a provided dependency: nothing else loads these classes.
 *
 * <p>Imports: cli and the floors below it (config, distributed, train). Nobody imports cli.spark.
 *
 * <p>Shape letters: none.
 */
package org.sensorium.cli.spark;
