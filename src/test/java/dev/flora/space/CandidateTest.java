package dev.flora.space;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Architecture codes: what decodes, what is refused, and that length alone breaks nothing. */
class CandidateTest {
    @Test
    void codesDecodeWithSpacesAroundTheirIndices() {
        Candidate c = Candidate.decode(" 6 :6:\t6|0:3: 2");
        assertEquals(2, c.blocks());
        assertArrayEquals(new int[] {0, 3, 2}, c.tuple(1));
        assertEquals("6:6:6|0:3:2", c.encode());
    }

    @Test
    void aCodeOfAHundredThousandBlocksDecodesWithoutOverflowingTheStack() {
        // the regular expression this replaced recursed once per block and overflowed here
        String code = "1:2:3|".repeat(100_000) + "1:2:3";
        assertEquals(100_001, Candidate.decode(code).blocks());
        String bad = "1:2:3|".repeat(100_000) + "1:x:3";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Candidate.decode(bad));
        assertTrue(e.getMessage().length() < 300, "the message quotes at most 80 characters of the code");
    }

    @Test
    void malformedCodesAreRefusedOnOneLine() {
        for (String bad : new String[] {"", "|", "1:2|", "1::2", "1:2\n|3:4", "a:b", "1:-2", "1.5:2"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Candidate.decode(bad), bad);
            assertTrue(e.getMessage().startsWith("candidate '"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
