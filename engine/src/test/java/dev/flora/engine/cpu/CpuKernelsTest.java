package dev.flora.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CpuKernelsTest {
    @Test
    void theTestJvmHasTheVectorModuleSoTheContractRunsTheVectorKernels() {
        // surefire's argLine adds it; without it CpuBackendOpsTest would test the scalar loops twice
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "the tests must run with --add-modules jdk.incubator.vector");
        CpuKernels chosen = CpuKernels.selected();
        assertEquals(VectorCpuKernels.worthUsing(), chosen instanceof VectorCpuKernels, chosen.describe());
    }

    @Test
    void vectorKernelsAreUsedOnTheX86MachinesWeBuildOn() throws java.io.IOException {
        // AVX2 or AVX-512 with FMA: a false here means the fast path silently went away
        if (MulAddTest.cpuListsFma()) {
            assertTrue(VectorCpuKernels.worthUsing());
            assertInstanceOf(VectorCpuKernels.class, CpuKernels.selected());
        }
    }

    @Test
    void geluWorksInTheTensorsMemoryWhereTheJdkAllowsIt() {
        // JDK 17 and 18 have FloatVector.fromByteBuffer; later JDKs do not
        assertEquals(Runtime.version().feature() < 19, VectorCpuKernels.hasBufferAccess());
    }

    @Test
    void offOrAMissingModuleKeepsTheScalarLoops() {
        assertInstanceOf(ScalarCpuKernels.class, CpuKernels.Selection.choose("off", true));
        assertInstanceOf(ScalarCpuKernels.class, CpuKernels.Selection.choose("OFF", true));
        assertInstanceOf(ScalarCpuKernels.class, CpuKernels.Selection.choose("false", true));
        assertInstanceOf(ScalarCpuKernels.class, CpuKernels.Selection.choose("auto", false));
        assertEquals(VectorCpuKernels.worthUsing(),
                CpuKernels.Selection.choose("auto", true) instanceof VectorCpuKernels);
    }
}
