package dev.flora.architecture;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pins the layering of the application (DESIGN.md): cli → pipeline → filter, search → supernet →
 * train → stage → space, config → models, data → image → engine, with latency (measured cost)
 * beside the stages, under search and over space; allocation (rank baselines without a supernet)
 * beside filter and search, on supernet and train; calibration (input covariances, activation-aware
 * factors) under supernet and allocation, on models and data; api beside it on models, image and engine,
 * perf on api, report on nothing of ours; and no package cycles. The last two tests show that the
 * rules fail on an upward import and on a cycle (fixture classes under the test sources).
 */
class LayeringTest {
    private static final String[] ALL_ABOVE_DATA = {"Models", "Config", "Space", "Stage", "Train", "Supernet",
        "Filter", "Search", "Allocation", "Calibration", "Latency", "Pipeline", "Api", "Perf", "Cli"};
    private static final String[] ALL_ABOVE_IMAGE = {"Data", "Models", "Config", "Space", "Stage", "Train",
        "Supernet", "Filter", "Search", "Allocation", "Calibration", "Latency", "Pipeline", "Api", "Perf", "Cli"};

    static final ArchRule LAYERS = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("Cli").definedBy("dev.flora.cli..")
            .layer("Pipeline").definedBy("dev.flora.pipeline..")
            .layer("Filter").definedBy("dev.flora.filter..")
            .layer("Search").definedBy("dev.flora.search..")
            .layer("Allocation").definedBy("dev.flora.allocation..")
            .layer("Supernet").definedBy("dev.flora.supernet..")
            .layer("Calibration").definedBy("dev.flora.calibration..")
            .layer("Latency").definedBy("dev.flora.latency..")
            .layer("Train").definedBy("dev.flora.train..")
            .layer("Stage").definedBy("dev.flora.stage..")
            .layer("Space").definedBy("dev.flora.space..")
            .layer("Config").definedBy("dev.flora.config..")
            .layer("Report").definedBy("dev.flora.report..")
            .layer("Perf").definedBy("dev.flora.perf..")
            .layer("Api").definedBy("dev.flora.api..")
            .layer("Models").definedBy("dev.flora.models..")
            .layer("Data").definedBy("dev.flora.data..")
            .layer("Image").definedBy("dev.flora.image..")
            .whereLayer("Cli").mayNotBeAccessedByAnyLayer()
            .whereLayer("Pipeline").mayOnlyBeAccessedByLayers("Cli")
            .whereLayer("Filter").mayOnlyBeAccessedByLayers("Pipeline", "Cli")
            .whereLayer("Search").mayOnlyBeAccessedByLayers("Pipeline", "Cli")
            .whereLayer("Allocation").mayOnlyBeAccessedByLayers("Pipeline", "Cli")
            .whereLayer("Supernet").mayOnlyBeAccessedByLayers("Filter", "Search", "Allocation", "Pipeline", "Cli")
            .whereLayer("Calibration").mayOnlyBeAccessedByLayers("Supernet", "Allocation", "Pipeline", "Cli")
            .whereLayer("Latency").mayOnlyBeAccessedByLayers("Search", "Pipeline", "Cli")
            .whereLayer("Train").mayOnlyBeAccessedByLayers("Supernet", "Filter", "Search", "Allocation", "Pipeline",
                    "Cli")
            .whereLayer("Stage").mayOnlyBeAccessedByLayers("Train", "Supernet", "Filter", "Search", "Allocation",
                    "Pipeline", "Cli")
            .whereLayer("Space").mayOnlyBeAccessedByLayers("Supernet", "Filter", "Search", "Allocation", "Latency",
                    "Pipeline", "Cli")
            .whereLayer("Config").mayOnlyBeAccessedByLayers("Stage", "Train", "Supernet", "Filter", "Search",
                    "Allocation", "Pipeline", "Cli")
            .whereLayer("Report").mayOnlyBeAccessedByLayers("Pipeline", "Cli")
            .whereLayer("Perf").mayOnlyBeAccessedByLayers("Cli")
            .whereLayer("Api").mayOnlyBeAccessedByLayers("Perf", "Cli")
            .whereLayer("Models").mayOnlyBeAccessedByLayers("Config", "Space", "Train", "Supernet", "Filter",
                    "Search", "Allocation", "Calibration", "Latency", "Pipeline", "Api", "Perf", "Cli")
            .whereLayer("Data").mayOnlyBeAccessedByLayers(ALL_ABOVE_DATA)
            .whereLayer("Image").mayOnlyBeAccessedByLayers(ALL_ABOVE_IMAGE);

    static final ArchRule NO_CYCLES = slices().matching("dev.flora.(*)..").should().beFreeOfCycles();

    /** The product: main classes of the app and of the engine module (imported once: it takes seconds). */
    private static final JavaClasses PRODUCT = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.flora");

    /** The product plus the fixture classes that break the rules on purpose. */
    private static JavaClasses productWith(String... fixtures) {
        List<String> files = List.of(fixtures).stream().map(n -> n.replace('.', '/') + ".class").toList();
        return new ClassFileImporter().withImportOption(location -> !location.contains("/test-classes/")
                || files.stream().anyMatch(location::contains))
                .importPackages("dev.flora");
    }

    @Test
    void packagesFollowTheLayers() {
        LAYERS.check(PRODUCT);
    }

    @Test
    void packagesHaveNoCycles() {
        NO_CYCLES.check(PRODUCT);
    }

    @Test
    void anUpwardImportBreaksTheLayers() {
        JavaClasses broken = productWith("dev.flora.space.UpwardImportFixture");
        AssertionError e = assertThrows(AssertionError.class, () -> LAYERS.check(broken));
        assertTrue(e.getMessage().contains("UpwardImportFixture"), e.getMessage());
    }

    @Test
    void aCycleBetweenPackagesIsFound() {
        JavaClasses broken = productWith("dev.flora.data.CycleFixture", "dev.flora.report.CycleFixture");
        AssertionError e = assertThrows(AssertionError.class, () -> NO_CYCLES.check(broken));
        assertTrue(e.getMessage().contains("CycleFixture"), e.getMessage());
    }
}
