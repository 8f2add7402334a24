/**
 * FLORA's low-rank aware candidate filtering (paper section 4.2): a local LRAT supernet per block,
 * every rank tuple scored by M = λ·P − F, the best kept ({@link dev.flora.filter.CandidateFilter}, a stage).
 * Uses supernet, train, space and config.
 */
package dev.flora.filter;
