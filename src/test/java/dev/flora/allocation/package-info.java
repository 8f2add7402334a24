/** Tests of the rank allocations without a supernet: their rules, their math, and {@code flora allocate}. */
package dev.flora.allocation;
