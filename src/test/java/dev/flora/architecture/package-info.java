/** Tests of the application's structure: the layering and package cycles, pinned with ArchUnit. */
package dev.flora.architecture;
