package org.sqlflow.playground.architecture;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The application's packages form a graph without cycles, so each one can be read, tested and changed from the
 * bottom up (settings and errors first, the HTTP edge and the Spring wiring last).
 */
class PackageCyclesTest {

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.sqlflow.playground");

    @Test
    void thePackagesAreFreeOfCycles() {
        assertThat(MAIN.size()).as("classes imported").isGreaterThan(50);
        slices().matching("org.sqlflow.playground.(*)..")
                .should()
                .beFreeOfCycles()
                .check(MAIN);
    }
}
