package org.sensorium;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Arrays;
import java.util.List;
import org.sensorium.data.FolderManifest;
import org.sensorium.data.Loader;
import org.sensorium.data.Manifest;
import org.sensorium.data.ManifestEntry;
import org.sensorium.data.QaManifest;
import org.sensorium.modality.Adapters;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.objective.HeldOut;
import org.sensorium.objective.Objective;
import org.sensorium.objective.ObjectiveKind;
import org.sensorium.objective.Step;

/**
 * The floors of the code (DESIGN.md, "Layout"), lowest first: a package imports only from the floors below it.
 * eval sits under objective because each objective owns its held-out measure and measures with eval's metrics;
 * distributed sits right above config because the contrastive objectives gather negatives through its Collective.
 */
@AnalyzeClasses(packages = "org.sensorium", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
    static final List<String> FLOORS = List.of("config", "distributed", "modality", "data", "model", "eval", "objective", "train",
            "job", "bench", "cli");

    @ArchTest
    static final ArchRule noCyclesBetweenPackages = slices().matching("org.sensorium.(*)..").should().beFreeOfCycles();

    @ArchTest
    static void eachFloorImportsOnlyFloorsBelowIt(JavaClasses classes) {
        for (int i = 0; i < FLOORS.size() - 1; i++) {
            String[] above = FLOORS.subList(i + 1, FLOORS.size()).stream().map(p -> "org.sensorium." + p + "..").toArray(String[]::new);
            noClasses().that().resideInAPackage("org.sensorium." + FLOORS.get(i) + "..")
                    .should().dependOnClassesThat().resideInAnyPackage(above)
                    .because(FLOORS.get(i) + " is below " + Arrays.toString(above))
                    .check(classes);
        }
    }

    @ArchTest
    static final ArchRule theModelTakesTensorsNotBatchesOrRecordings = noClasses().that().resideInAPackage("org.sensorium.model..")
            .should().dependOnClassesThat().resideInAnyPackage("org.sensorium.data..", "org.sensorium.modality..");

    @ArchTest
    static final ArchRule objectivesReadStepsNotTheLoaderOrManifests = noClasses().that().resideInAPackage("org.sensorium.objective..")
            .should().dependOnClassesThat(belongToAnyOf(Loader.class, Manifest.class, ManifestEntry.class, QaManifest.class,
                    FolderManifest.class))
            .orShould().dependOnClassesThat(belongToAnyOf(ModalityAdapter.class, Adapters.class))
            .orShould().dependOnClassesThat().resideInAnyPackage("org.sensorium.modality.video..", "org.sensorium.modality.audio..",
                    "org.sensorium.modality.text..", "org.sensorium.modality.imu..")
            .because("an objective declares its Needs and the loader decodes them");

    @ArchTest
    static final ArchRule distributedIsTransportOnly = noClasses().that().resideInAPackage("org.sensorium.distributed..")
            .should().dependOnClassesThat(resideInAPackage("org.sensorium..").and(not(resideInAPackage("org.sensorium.distributed.."))));

    @ArchTest
    static final ArchRule nobodyImportsTheCli = noClasses().that().resideOutsideOfPackage("org.sensorium.cli..")
            .should().dependOnClassesThat().resideInAPackage("org.sensorium.cli..");

    @ArchTest
    static final ArchRule objectiveClassesStayInTheirPackage = noClasses().that().resideOutsideOfPackage("org.sensorium.objective..")
            .should().dependOnClassesThat(resideInAPackage("org.sensorium.objective..")
                    .and(not(belongToAnyOf(Objective.class, ObjectiveKind.class, Step.class, HeldOut.class))))
            .because("the objective package is closed: ObjectiveKind builds objectives, the Objective contract is all others see");
}
